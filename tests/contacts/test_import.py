"""`manage.py import_contacts`: create or update by reference, one transaction per row, a report."""

import io

import pytest
from django.core.management import CommandError, call_command

from contacts.models import Client, Dossier, Intervenant
from tests.factories import ClientFactory, IntervenantFactory, valid_siret

pytestmark = pytest.mark.django_db


def run(kind, path):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_contacts", kind, str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_clients_and_reports_each_rejected_line(tmp_path):
    ClientFactory(reference="CLI-0002", name="Ancien nom")
    path = tmp_path / "clients.csv"
    path.write_text(
        "reference;name;kind;email;phone;active\n"
        "CLI-0001;SCI Les Flamboyants;Bailleur;contact@sci.fr;0596 61 23 45;oui\n"
        "CLI-0002;Josiane Céleste;owner;;;\n"
        "CLI-0003;;owner;;;\n"
        "CLI-0004;Karim Benali;locataire;pas-une-adresse;;\n"
        "CLI-0005;Syndic Bellevue;copropriété;;12;\n"
        "CLI-0006;Ancien client;owner;;;non\n"
        "CLI-0007;Gérant;inconnu;;;\n",
        encoding="utf-8",
    )

    out, err = run("clients", path)

    assert "clients.csv : 7 lignes, 2 créées, 1 mises à jour, 4 rejetées." in out
    assert "ligne 4 : name : cette valeur est obligatoire." in out
    assert "ligne 5 : email : Saisissez une adresse de courriel valide." in out
    assert "ligne 6 : phone : Saisissez un numéro de téléphone français" in out
    assert "ligne 8 : kind : valeur inconnue « inconnu »" in out
    assert "7/7" in err  # the progress bar reached the end
    assert set(Client.objects.values_list("reference", flat=True)) == {
        "CLI-0001",
        "CLI-0002",
        "CLI-0006",
    }
    sci = Client.objects.get(reference="CLI-0001")
    assert (sci.kind, sci.phone) == ("landlord", "+596596612345")
    assert Client.objects.get(reference="CLI-0002").name == "Josiane Céleste"
    assert Client.objects.get(reference="CLI-0006").deactivated_at is not None


def test_it_updates_instead_of_duplicating_when_run_twice(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text("reference,name\nCLI-0001,SCI Les Flamboyants\n", encoding="utf-8")

    run("clients", path)
    out, _ = run("clients", path)

    assert "1 lignes, 0 créées, 1 mises à jour, 0 rejetées." in out
    assert Client.objects.count() == 1


def test_it_imports_dossiers_with_their_references(tmp_path, gestionnaire):
    ClientFactory(reference="CLI-0001")
    path = tmp_path / "dossiers.csv"
    path.write_text(
        "reference,client_reference,property_address,postal_code,city,gestionnaire,label\n"
        "D-2019-00042,CLI-0001,12 rue Schœlcher,97200,Fort-de-France,claire,Immeuble\n"
        "D-2019-00043,CLI-9999,1 rue X,97200,Fort-de-France,claire,\n"
        "D-2019-00044,CLI-0001,1 rue X,972,Fort-de-France,claire,\n"
        "D-2019-00045,CLI-0001,1 rue X,97200,Fort-de-France,personne,\n",
        encoding="utf-8",
    )

    out, _ = run("dossiers", path)

    assert "4 lignes, 1 créées, 0 mises à jour, 3 rejetées." in out
    assert "ligne 3 : client_reference : aucun client n’a la référence « CLI-9999 »." in out
    assert "ligne 4 : Un code postal a 5 chiffres." in out or "ligne 4 : postal_code" in out
    assert "ligne 5 : gestionnaire : aucun utilisateur n’a l’identifiant « personne »." in out
    dossier = Dossier.objects.get()
    assert (dossier.reference, dossier.gestionnaire, dossier.label) == (
        "D-2019-00042",
        gestionnaire,
        "Immeuble",
    )


def test_it_imports_intervenants_and_never_approves_an_artisan(tmp_path):
    existing = IntervenantFactory(name="Cabinet Lemoine", email="contact@lemoine.fr")
    siret = valid_siret(5)
    path = tmp_path / "intervenants.csv"
    path.write_text(
        "reference;name;kind;category;email;phone;siret;channel\n"
        f"INT-1;Plomberie Martin;artisan;;devis@martin.fr;0696 22 33 44;{siret};\n"
        "INT-2;Agence du Carbet;Confrère;commercial;;;;\n"
        "INT-3;Lemoine bis;avocat;;CONTACT@lemoine.fr;;;\n"
        "INT-4;Notaire X;notaire;technique;;;;\n"
        "INT-5;Maître Y;huissier;;;;73282932000075;\n"
        "INT-6;Expert Z;expert;;;;;email\n",
        encoding="utf-8",
    )

    out, _ = run("intervenants", path)

    assert "6 lignes, 3 créées, 0 mises à jour, 3 rejetées." in out
    assert (
        "ligne 4 : email : Cette adresse e-mail est déjà celle de l’intervenant "
        f"« Cabinet Lemoine » (n° {existing.pk})."
    ) in out
    assert "ligne 5 : category : valeur inconnue « technique »" in out
    assert "ligne 6 : siret : Saisissez un numéro SIRET valide" in out
    artisan = Intervenant.objects.get(reference="INT-1")
    assert (artisan.category, artisan.siret, artisan.approval_state) == (
        "technical",
        siret,
        "not_proposed",
    )
    assert Intervenant.objects.get(reference="INT-2").category == "commercial"
    assert Intervenant.objects.get(reference="INT-6").preferred_channel == "email"


def test_it_keeps_nothing_of_a_row_that_fails_half_way(tmp_path):
    """A client created, then refused on deactivation, would be half a row: none is kept."""
    path = tmp_path / "clients.csv"
    path.write_text("reference,name,active\nCLI-1,Client,peut-être\n", encoding="utf-8")

    out, _ = run("clients", path)

    assert "ligne 2 : active : « peut-être » n’est ni oui ni non." in out
    assert not Client.objects.exists()


def test_it_reports_a_line_with_too_many_cells(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text("reference,name\nCLI-1,Client,en trop\nCLI-2,Autre\n", encoding="utf-8")

    out, _ = run("clients", path)

    assert "ligne 2 : cette ligne a plus de cellules que l’en-tête n’a de colonnes." in out
    assert list(Client.objects.values_list("reference", flat=True)) == ["CLI-2"]


def test_it_refuses_a_file_without_the_expected_columns(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text("ref,nom\nCLI-1,Client\n", encoding="utf-8")

    with pytest.raises(CommandError) as excinfo:
        run("clients", path)

    assert "colonnes manquantes : reference, name" in str(excinfo.value)
    assert "colonnes inconnues : ref, nom" in str(excinfo.value)
    assert not Client.objects.exists()


def test_it_reads_an_excel_export_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes("reference;name\r\nCLI-1;Société Générale Immo\r\n".encode("utf-8-sig"))

    run("clients", path)

    assert Client.objects.get().name == "Société Générale Immo"
