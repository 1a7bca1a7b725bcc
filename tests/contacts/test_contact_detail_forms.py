"""The forms take phone and SIRET numbers as people write them, and store them normalised."""

import pytest

from contacts.forms import ClientForm, IntervenantForm
from contacts.models import Client, Intervenant

pytestmark = pytest.mark.django_db

PHONES = [
    ("+33 1 23 45 67 89", "+33123456789"),  # the example of the form's own error message
    ("+33 (0)1 23 45 67 89", "+33123456789"),
    ("0033 1 23 45 67 89", "+33123456789"),
    ("01.23.45.67.89", "+33123456789"),
    ("01-23-45-67-89", "+33123456789"),
    ("+590 590 12 34 56", "+590590123456"),  # overseas, as format_phone displays it
    ("0590 12 34 56", "+590590123456"),
    ("+262 692 12 34 56", "+262692123456"),
]

SIRETS = [
    ("732 829 320 00074", "73282932000074"),  # as format_siret displays it
    ("732.829.320.00074", "73282932000074"),
    ("732-829-320-00074", "73282932000074"),
    ("73282932000074", "73282932000074"),
]


def intervenant_data(**overrides):
    return {"name": "Plomberie Martin", "kind": "artisan", **overrides}


def client_data(**overrides):
    return {"reference": "CLI-42", "name": "Mme Durand", "kind": "owner", **overrides}


@pytest.mark.parametrize(("typed", "stored"), PHONES)
def test_the_intervenant_form_stores_a_written_phone_number_normalised(typed, stored):
    form = IntervenantForm(data=intervenant_data(phone=typed))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == stored
    assert form.save().phone == stored
    assert Intervenant.objects.get().phone == stored


@pytest.mark.parametrize(("typed", "stored"), SIRETS)
def test_the_intervenant_form_stores_a_written_siret_normalised(typed, stored):
    form = IntervenantForm(data=intervenant_data(kind="company", siret=typed))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["siret"] == stored
    assert form.save().siret == stored


@pytest.mark.parametrize(("typed", "stored"), PHONES)
def test_the_client_form_stores_a_written_phone_number_normalised(typed, stored):
    form = ClientForm(data=client_data(phone=typed))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == stored
    form.save()
    assert Client.objects.get().phone == stored


def test_the_forms_still_refuse_a_wrong_number_with_the_french_message():
    intervenant = IntervenantForm(
        data=intervenant_data(kind="company", phone="+33 1 23 45", siret="732 829 320 00075")
    )
    client = ClientForm(data=client_data(phone="12 34 56 78 90 12 34 56 78 90 12 34 56 78"))

    assert "Saisissez un numéro de téléphone" in intervenant.errors["phone"][0]
    assert "SIRET" in intervenant.errors["siret"][0]
    assert "Saisissez un numéro de téléphone" in client.errors["phone"][0]


def test_the_intervenant_page_saves_a_spaced_siret_and_phone(as_user, gestionnaire):
    response = as_user(gestionnaire).post(
        "/contacts/intervenants/nouveau/",
        intervenant_data(kind="company", phone="+590 590 12 34 56", siret="732 829 320 00074"),
    )

    intervenant = Intervenant.objects.get()
    assert response.status_code == 302
    assert (intervenant.phone, intervenant.siret) == ("+590590123456", "73282932000074")
