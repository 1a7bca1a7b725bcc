import pytest
from django.core.management import call_command

from correspondence.models import IncomingItem, Status

pytestmark = pytest.mark.django_db


def test_the_demo_data_adds_items_once(settings):
    settings.DEBUG = True

    call_command("seed_demo")
    call_command("seed_demo")

    items = IncomingItem.objects.all()
    assert items.count() == 4
    assert {item.channel for item in items} == {"letter", "email", "visit"}
    assert all(item.status == Status.RECEIVED for item in items)
    assert items.filter(registered=True).get().tracking_number == "RR123456789FR"


@pytest.mark.parametrize("model", ["incomingitem", "reply", "event", "activity"])
def test_the_direction_reads_the_correspondence_in_the_admin(as_user, direction, model):
    client = as_user(direction)

    assert client.get(f"/admin/correspondence/{model}/").status_code == 200
    assert client.get(f"/admin/correspondence/{model}/add/").status_code == 403


def test_the_admin_list_of_items_needs_constant_queries(
    settings, as_user, direction, django_assert_max_num_queries
):
    settings.DEBUG = True
    call_command("seed_demo")
    client = as_user(direction)

    with django_assert_max_num_queries(12):
        assert client.get("/admin/correspondence/incomingitem/").status_code == 200
