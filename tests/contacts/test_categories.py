"""R2: a kind implies its category; the preferred channel follows the category."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contacts.models import Intervenant
from tests.factories import IntervenantFactory

Kind, Category, Channel = Intervenant.Kind, Intervenant.Category, Intervenant.Channel

A, B, C = Category.ADMINISTRATIVE, Category.TECHNICAL, Category.COMMERCIAL
# The procedure's list, kind by kind (section 1, "Définitions des intervenants").
EXPECTED = {
    Kind.BAILIFF: {A},
    Kind.LAWYER: {A},
    Kind.ADMINISTRATOR: {A},
    Kind.NOTARY: {A},
    Kind.IEDOM: {A},
    Kind.TAX_OFFICE: {A},
    Kind.INSURER: {A},
    Kind.LEGAL_PROTECTION: {A},
    Kind.FELLOW_AGENCY: {A, C},
    Kind.FAMILY_ALLOWANCE: {A},
    Kind.SOCIAL_SECURITY: {A},
    Kind.ACCOUNTANT: {A},
    Kind.OTHER_ADMINISTRATIVE: {A},
    Kind.ARTISAN: {B},
    Kind.COMPANY: {B},
    Kind.EXPERT: {B},
    Kind.OTHER_TECHNICAL: {B},
    Kind.ADVERTISING: {C},
    Kind.OTHER_COMMERCIAL: {C},
}
CHANNELS = {A: Channel.LETTER_OR_EMAIL, B: Channel.REDMINE, C: Channel.EMAIL}
PAIRS = [(kind, category) for kind in Kind for category in Category]


def test_it_maps_every_kind_of_the_procedure():
    assert set(EXPECTED) == set(Kind)
    assert {k: set(v) for k, v in Intervenant.KIND_CATEGORIES.items()} == EXPECTED


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "category"), PAIRS, ids=[f"{k}-{c}" for k, c in PAIRS])
def test_it_accepts_a_kind_only_in_its_category(kind, category):
    intervenant = IntervenantFactory.build(kind=kind, category=category)
    allowed = category in EXPECTED[kind]

    if allowed:
        intervenant.full_clean()
        intervenant.save()
        assert intervenant.preferred_channel == CHANNELS[category]
    else:
        with pytest.raises(ValidationError) as excinfo:
            intervenant.full_clean()
        assert "n’appartient pas à la catégorie" in str(excinfo.value.message_dict["category"])
        # The database holds the rule even when the validation is bypassed.
        with pytest.raises(IntegrityError), transaction.atomic():
            intervenant.save()


@pytest.mark.django_db
def test_it_lets_an_intervenant_override_his_channel():
    notary = IntervenantFactory(kind=Kind.NOTARY, channel_override=Channel.EMAIL)

    assert notary.default_channel == Channel.LETTER_OR_EMAIL
    assert notary.preferred_channel == Channel.EMAIL


@pytest.mark.django_db
def test_it_keeps_redmine_for_technical_intervenants():
    notary = IntervenantFactory.build(kind=Kind.NOTARY, channel_override=Channel.REDMINE)

    with pytest.raises(ValidationError) as excinfo:
        notary.full_clean()
    assert "channel_override" in excinfo.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        notary.save()
