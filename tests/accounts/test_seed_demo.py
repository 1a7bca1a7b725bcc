import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_it_creates_one_demo_user_per_role_and_can_run_twice(settings, capsys):
    settings.DEBUG = True

    call_command("seed_demo")
    call_command("seed_demo")

    users = get_user_model().objects.filter(username__in=["gestionnaire", "direction", "juridique"])
    assert {(u.username, u.groups.get().name) for u in users} == {
        ("gestionnaire", "Gestionnaire"),
        ("direction", "Direction"),
        ("juridique", "Service juridique"),
    }
    assert users.get(username="direction").is_staff
    assert users.get(username="gestionnaire").check_password("gestionnaire-demo")
    assert "login: gestionnaire  password: gestionnaire-demo" in capsys.readouterr().out


@pytest.mark.django_db
def test_it_refuses_demo_users_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="Refusing to create demo users"):
        call_command("seed_demo")
    assert not get_user_model().objects.filter(username="direction").exists()
