"""Two intervenants never share an email (any case) or a SIRET; the message names the first."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contacts import services
from contacts.models import Intervenant
from tests.factories import ArtisanFactory, IntervenantFactory, valid_siret

pytestmark = pytest.mark.django_db


def test_it_refuses_an_email_already_used_whatever_its_case():
    existing = IntervenantFactory(name="Maître Rivière", email="etude@riviere.fr")

    with pytest.raises(ValidationError) as excinfo:
        services.intervenant_create(name="Étude Rivière", kind="bailiff", email="Etude@Riviere.FR")

    message = excinfo.value.message_dict["email"][0]
    assert "Maître Rivière" in message and f"n° {existing.pk}" in message
    assert Intervenant.objects.count() == 1


def test_it_refuses_a_siret_already_used_whatever_its_spacing():
    siret = valid_siret(1)
    ArtisanFactory(name="Plomberie Martin", siret=siret)

    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    with pytest.raises(ValidationError) as excinfo:
        services.intervenant_create(name="Martin Plomberie", kind="artisan", siret=spaced)

    assert "Plomberie Martin" in excinfo.value.message_dict["siret"][0]
    assert Intervenant.objects.count() == 1


def test_it_lets_an_intervenant_keep_his_own_email_when_edited():
    intervenant = IntervenantFactory(email="notaire@exemple.fr")

    services.intervenant_update(intervenant=intervenant, email="NOTAIRE@exemple.fr", notes="RAS")

    intervenant.refresh_from_db()
    assert intervenant.email == "NOTAIRE@exemple.fr"


def test_it_allows_many_intervenants_without_email_or_siret():
    IntervenantFactory(email="", siret="")
    IntervenantFactory(email="", siret="")

    assert Intervenant.objects.filter(email="", siret="").count() == 2


@pytest.mark.parametrize(
    ("field", "first", "second"),
    [
        ("email", "a@exemple.fr", "A@EXEMPLE.FR"),
        ("siret", valid_siret(2), valid_siret(2)),
        ("reference", "INT-1", "INT-1"),
    ],
)
def test_it_holds_the_uniqueness_in_the_database(field, first, second):
    """Even a save that skips the validation (a race between two forms) is refused."""
    ArtisanFactory(**{field: first})

    with pytest.raises(IntegrityError), transaction.atomic():
        ArtisanFactory(**{field: second})


def test_it_turns_a_lost_race_into_the_named_message(monkeypatch):
    """Both saves passed clean(); the second meets the constraint and gets the named message."""
    first = IntervenantFactory(name="Cabinet Lemoine", email="contact@lemoine.fr")
    calls = {"n": 0}
    original_clean = Intervenant.clean

    def clean_blind_once(self):
        # The first validation runs before the other save is visible (as in a real race).
        calls["n"] += 1
        if calls["n"] == 1:
            return None
        return original_clean(self)

    monkeypatch.setattr(Intervenant, "clean", clean_blind_once)

    with pytest.raises(ValidationError) as excinfo:
        services.intervenant_create(name="Lemoine", kind="lawyer", email="CONTACT@lemoine.fr")

    assert "Cabinet Lemoine" in excinfo.value.message_dict["email"][0]
    assert list(Intervenant.objects.all()) == [first]
