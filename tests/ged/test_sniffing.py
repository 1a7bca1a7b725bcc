"""Types told from the bytes, without libmagic."""

import pytest
from django.conf import settings

from ged import sniffing
from tests.ged.conftest import EMAIL, HTML, JPEG, PNG, SVG, TIFF, pdf_bytes


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (pdf_bytes(), "application/pdf"),
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (TIFF, "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
        (EMAIL, "message/rfc822"),
        (b"From syndic@example.fr Mon Jun  3 09:11:58 2024\n" + EMAIL, "message/rfc822"),
        (HTML, "text/html"),
        (SVG, "text/html"),
        (b"\xef\xbb\xbf  <html><body>hi</body></html>", "text/html"),
        (b"Bonjour\r\n<script>alert(1)</script>", "text/html"),
        (b"Bonjour, ceci est un texte.\n", None),
        (b"From: quelqu'un\n\nno other header", None),  # one header is not an email
        (b"From: a@b.fr\nDate: today\n" + b"X-Long: y\n" * 10_000, None),  # header never ends
        (b"MZ\x90\x00", None),
        (b"", None),
    ],
)
def test_it_tells_the_type_from_the_first_bytes(content, expected):
    assert sniffing.sniff(content[: sniffing.HEAD_SIZE]) == expected


def test_it_recognises_exactly_the_types_the_settings_know():
    assert set(sniffing.KNOWN_TYPES) == set(settings.GED_KNOWN_CONTENT_TYPES)
    assert set(sniffing.EXTENSIONS) == set(sniffing.KNOWN_TYPES)
