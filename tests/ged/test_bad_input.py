"""Refused files: each with a French message saying why, and nothing stored."""

import pytest
from django.core.exceptions import ValidationError

from ged.models import Document
from ged.services import document_store
from tests.ged.conftest import EMAIL, HTML, PNG, SVG, encrypted_pdf_bytes, pdf_bytes, upload


def refuse(store, owner, user, file) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        document_store(file=file, owner=owner, added_by=user)
    assert Document.objects.count() == 0
    assert store.keys() == []
    return refused.value.messages


def test_it_refuses_a_file_larger_than_the_limit(store, settings, owner, gestionnaire):
    settings.GED_MAX_UPLOAD_SIZE = 1024
    content = pdf_bytes() + b"%" * 2048

    messages = refuse(store, owner, gestionnaire, upload("gros.pdf", content))

    assert messages == [
        "Le fichier « gros.pdf » est trop volumineux (2,4\xa0Kio) ; la limite est de 1,0\xa0Kio."
    ]


def test_it_counts_the_bytes_when_the_size_is_not_declared(store, settings, owner, gestionnaire):
    settings.GED_MAX_UPLOAD_SIZE = 1024
    file = upload("gros.pdf", pdf_bytes() + b"%" * 2048)
    file.size = None  # a file object that does not know its size

    messages = refuse(store, owner, gestionnaire, file)

    assert messages[0].startswith("Le fichier « gros.pdf » est trop volumineux")


def test_it_accepts_a_file_of_exactly_the_limit(settings, owner, gestionnaire):
    content = pdf_bytes()
    settings.GED_MAX_UPLOAD_SIZE = len(content)

    document = document_store(file=upload("juste.pdf", content), owner=owner, added_by=gestionnaire)

    assert document.size == len(content)


def test_it_refuses_an_empty_file(store, owner, gestionnaire):
    messages = refuse(store, owner, gestionnaire, upload("vide.pdf", b""))

    assert messages == ["Le fichier « vide.pdf » est vide."]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "facture.pdf",
            PNG,
            "Le fichier « facture.pdf » porte le nom d’un fichier PDF mais son contenu est PNG.",
        ),
        (
            "scan.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200,  # a Windows program
            "Le fichier « scan.pdf » porte le nom d’un fichier PDF "
            "mais son contenu n’en est pas un.",
        ),
        (
            "photo.jpg",
            pdf_bytes(),
            "Le fichier « photo.jpg » porte le nom d’un fichier JPEG mais son contenu est PDF.",
        ),
        (
            "courriel.eml",
            b"just some text, no header\n\nbody\n",
            "Le fichier « courriel.eml » porte le nom d’un fichier e-mail (.eml) mais son contenu "
            "n’en est pas un.",
        ),
    ],
)
def test_it_refuses_a_file_whose_name_lies_about_its_content(
    store, owner, gestionnaire, name, content, message
):
    assert refuse(store, owner, gestionnaire, upload(name, content, "application/pdf")) == [message]


@pytest.mark.parametrize(
    ("name", "content"), [("page.html", HTML), ("logo.svg", SVG), ("scan.pdf", HTML)]
)
def test_it_refuses_html_and_svg_whatever_their_name(store, owner, gestionnaire, name, content):
    messages = refuse(store, owner, gestionnaire, upload(name, content, "application/pdf"))

    assert messages == [
        f"Le fichier « {name} » est une page web (HTML ou SVG) ; ces fichiers sont refusés "
        "car ils peuvent contenir des scripts."
    ]


def test_it_refuses_an_unknown_type(store, owner, gestionnaire):
    messages = refuse(store, owner, gestionnaire, upload("notes.txt", b"Bonjour\n"))

    assert messages == [
        "Le type du fichier « notes.txt » n’est pas accepté. Types acceptés : "
        "PDF, JPEG, PNG, TIFF, e-mail (.eml)."
    ]


def test_it_refuses_a_type_left_out_of_the_allowed_types(store, settings, owner, gestionnaire):
    settings.GED_ALLOWED_CONTENT_TYPES = ["application/pdf"]

    messages = refuse(store, owner, gestionnaire, upload("message.eml", EMAIL))

    assert messages == [
        "Le type du fichier « message.eml » n’est pas accepté. Types acceptés : PDF."
    ]


@pytest.mark.parametrize(
    "content",
    [
        pdf_bytes()[:200],  # truncated
        b"%PDF-1.7\n" + b"\x00garbage" * 40,
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
    ],
    ids=["truncated", "garbage", "no-pages"],
)
def test_it_refuses_a_pdf_that_does_not_parse(store, owner, gestionnaire, content):
    messages = refuse(store, owner, gestionnaire, upload("abime.pdf", content))

    assert messages == ["Le fichier « abime.pdf » n’est pas un PDF lisible (endommagé ou tronqué)."]


def test_it_refuses_a_password_protected_pdf(store, owner, gestionnaire):
    messages = refuse(store, owner, gestionnaire, upload("secret.pdf", encrypted_pdf_bytes("1234")))

    assert messages == [
        "Le fichier PDF « secret.pdf » est protégé par un mot de passe ; enregistrez-le sans mot "
        "de passe puis réessayez."
    ]


def test_it_accepts_a_pdf_encrypted_without_a_user_password(owner, gestionnaire):
    document = document_store(
        file=upload("restreint.pdf", encrypted_pdf_bytes("")), owner=owner, added_by=gestionnaire
    )

    assert document.content_type == "application/pdf"
