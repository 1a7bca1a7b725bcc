"""The French catalogue is complete and its compiled form is up to date."""

import subprocess
from pathlib import Path

from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_it_has_no_untranslated_or_fuzzy_entry():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_it_ships_the_compiled_catalogue_of_the_current_po(tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(PO)], check=True)

    assert fresh.read_bytes() == MO.read_bytes(), "run `make messages` and commit django.mo"


def test_it_translates_the_interface_into_french():
    with translation.override("fr"):
        assert translation.gettext("Log in") == "Connexion"
        assert translation.gettext("Legal service") == "Service juridique"
