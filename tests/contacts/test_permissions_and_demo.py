"""The roles' rights on the client base, and the demo data."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts.models import ApprovalState, Client, Dossier, Intervenant, Mandate
from contacts.selectors import mandate_check

pytestmark = pytest.mark.django_db

MODELS = ["client", "dossier", "intervenant", "mandate"]


@pytest.mark.parametrize(
    ("persona", "actions"),
    [
        ("gestionnaire", {"add", "change", "view"}),
        ("direction", {"add", "change", "view"}),
        ("legal", {"view"}),
    ],
)
def test_it_grants_each_role_its_rights_on_the_client_base(request, persona, actions):
    user = request.getfixturevalue(persona)

    for model in MODELS:
        for action in ("add", "change", "view", "delete"):
            assert user.has_perm(f"contacts.{action}_{model}") is (action in actions), (
                action,
                model,
            )
    assert user.has_perm("contacts.view_artisandecision")
    assert not user.has_perm("contacts.add_artisandecision")


def test_it_seeds_a_realistic_client_base_twice_without_duplicates(settings, tmp_path, capsys):
    settings.DEBUG = True

    call_command("seed_demo")
    call_command("seed_demo")

    assert Client.objects.count() == 4
    assert Dossier.objects.count() == 4
    assert Intervenant.objects.count() == 8
    assert Mandate.objects.count() == 3
    states = {i.reference: i.approval_state for i in Intervenant.objects.all()}
    assert states["INT-0005"] == ApprovalState.PENDING
    assert states["INT-0006"] == ApprovalState.APPROVED
    lawyer = Intervenant.objects.get(reference="INT-0002")
    sci = Client.objects.get(reference="CLI-0001")
    assert mandate_check(intervenant=lawyer, client=sci, at=timezone.now()).ok
    assert "client base: 4 clients" in capsys.readouterr().out
