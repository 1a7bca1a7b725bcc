import pytest
from django.contrib.auth.models import Group

from accounts.roles import Role, user_roles
from tests.factories import UserFactory

# Personas are fetched by name (request.getfixturevalue): declare the database use up front, so that
# pytest-django runs these tests before the transactional ones, which flush the role groups.
pytestmark = pytest.mark.django_db


@pytest.mark.django_db
def test_it_creates_the_three_role_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Gestionnaire",
        "Direction",
        "Service juridique",
    }


@pytest.mark.parametrize(
    ("persona", "approve_artisan", "register_bailiff_act"),
    [
        ("gestionnaire", False, False),
        ("direction", True, False),
        ("legal", False, True),
    ],
)
def test_it_grants_the_custom_permissions_to_one_role_each(
    request, persona, approve_artisan, register_bailiff_act
):
    user = request.getfixturevalue(persona)

    assert user.has_perm("accounts.approve_artisan") is approve_artisan
    assert user.has_perm("accounts.register_bailiff_act") is register_bailiff_act


@pytest.mark.django_db
def test_it_grants_nothing_to_a_user_without_role():
    user = UserFactory()

    assert user_roles(user) == frozenset()
    assert not user.has_perm("accounts.approve_artisan")
    assert not user.has_perm("accounts.register_bailiff_act")


@pytest.mark.django_db
def test_it_reads_the_roles_in_one_query(django_assert_num_queries):
    user = UserFactory(roles=[Role.GESTIONNAIRE, Role.LEGAL])

    with django_assert_num_queries(1):
        assert user_roles(user) == {Role.GESTIONNAIRE, Role.LEGAL}
        assert user_roles(user) == {Role.GESTIONNAIRE, Role.LEGAL}
