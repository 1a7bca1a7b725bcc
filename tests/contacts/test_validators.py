"""Contact details: French and overseas phone numbers, SIRET with its checksum."""

import pytest
from django.core.exceptions import ValidationError

from contacts.validators import format_phone, format_siret, normalize_phone, normalize_siret
from tests.factories import IntervenantFactory


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("01 23 45 67 89", "+33123456789"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033 1 23 45 67 89", "+33123456789"),
        ("+33 (0)1 23 45 67 89", "+33123456789"),
        # Overseas departments: the national form has the department's own country code.
        ("0590 12 34 56", "+590590123456"),  # Guadeloupe
        ("0690 12 34 56", "+590690123456"),
        ("0596 61 23 45", "+596596612345"),  # Martinique
        ("0696 45 78 12", "+596696457812"),
        ("0594 30 12 34", "+594594301234"),  # Guyane
        ("0262 41 52 63", "+262262415263"),  # La Réunion
        ("0692 12 34 56", "+262692123456"),
        ("0269 61 12 34", "+262269611234"),  # Mayotte
        ("+590 590 12 34 56", "+590590123456"),
        ("+33 590 12 34 56", "+590590123456"),
        ("+508 41 23 45", "+508412345"),  # Saint-Pierre-et-Miquelon
        ("+687 28 12 34", "+687281234"),  # Nouvelle-Calédonie
        ("+689 40 12 34 56", "+68940123456"),  # Polynésie française
        ("", ""),
    ],
)
def test_it_stores_french_and_overseas_numbers_in_one_form(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "12345",
        "01 23 45 67",  # too short
        "01 23 45 67 89 10",  # too long
        "+44 20 7946 0958",  # not French
        "+33 1 23 45 67",
        "+590 12 34",
        "00 00 00 00 00",
        "téléphone",
        "+33 1 23 45 67 8a",
    ],
)
def test_it_refuses_a_number_that_is_not_french(typed):
    with pytest.raises(ValidationError) as excinfo:
        normalize_phone(typed)
    assert excinfo.value.code == "invalid_phone"


def test_it_displays_a_number_in_groups():
    assert format_phone("+33123456789") == "+33 1 23 45 67 89"
    assert format_phone("+590590123456") == "+590 590 12 34 56"
    assert format_phone("+508412345") == "+508 41 23 45"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("732 829 320 00074", "73282932000074"),
        ("44306184100047", "44306184100047"),
        ("356 000 000 00048", "35600000000048"),  # La Poste's head office: Luhn
        ("35600000049837", "35600000049837"),  # a La Poste office: sum of digits, multiple of 5
        ("", ""),
    ],
)
def test_it_accepts_a_siret_with_its_checksum(typed, stored):
    assert normalize_siret(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "73282932000075",  # last digit changed
        "73282932100072",  # the SIRET passes Luhn, its SIREN does not
        "7328293200007",  # 13 digits
        "732829320000744",
        "7328293200007A",
        "35600000049838",  # La Poste, wrong sum
    ],
)
def test_it_refuses_a_siret_whose_checksum_is_wrong(typed):
    with pytest.raises(ValidationError) as excinfo:
        normalize_siret(typed)
    assert excinfo.value.code == "invalid_siret"


def test_it_displays_a_siret_in_groups():
    assert format_siret("73282932000074") == "732 829 320 00074"


@pytest.mark.django_db
def test_it_normalises_contact_details_when_validating_an_intervenant():
    intervenant = IntervenantFactory.build(phone="0696 45 78 12", siret="732 829 320 00074")

    intervenant.full_clean()

    assert intervenant.phone == "+596696457812"
    assert intervenant.siret == "73282932000074"


@pytest.mark.django_db
def test_it_reports_bad_contact_details_in_french():
    intervenant = IntervenantFactory.build(
        phone="12 34", siret="73282932000075", email="pas-une-adresse"
    )

    with pytest.raises(ValidationError) as excinfo:
        intervenant.full_clean()

    errors = excinfo.value.message_dict
    assert "numéro de téléphone français" in errors["phone"][0]
    assert "clé de contrôle" in errors["siret"][0]
    assert "adresse de courriel valide" in errors["email"][0]
