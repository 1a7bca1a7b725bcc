"""document_store on both storages: checksum, keys, de-duplication, versions, names."""

import hashlib
import io
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError

from ged.models import Document
from ged.services import document_store
from tests.ged.conftest import EMAIL, JPEG, PNG, TIFF, pdf_bytes, upload

KEY = re.compile(r"^ged/\d{4}/\d{2}/\d{2}/[0-9a-f]{32}\.(pdf|jpg|png|tif|eml)$")


def test_it_stores_a_pdf_with_its_checksum_and_metadata(store, owner, gestionnaire):
    content = pdf_bytes(2)

    document = document_store(
        file=upload("Courrier du syndic.pdf", content), owner=owner, added_by=gestionnaire
    )

    document.refresh_from_db()
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.size == len(content)
    assert document.content_type == "application/pdf"
    assert document.original_filename == "Courrier du syndic.pdf"
    assert document.added_by == gestionnaire
    assert document.owner == owner
    assert document.previous is None
    assert KEY.match(document.file.name)
    assert store.keys() == [document.file.name]
    assert store.read(document.file.name) == content


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("photo.jpg", JPEG, "image/jpeg"),
        ("plan.png", PNG, "image/png"),
        ("scan.tiff", TIFF, "image/tiff"),
        ("message.eml", EMAIL, "message/rfc822"),
        ("sans extension", pdf_bytes(), "application/pdf"),
    ],
)
def test_it_sniffs_each_accepted_type_from_the_content(
    store, owner, gestionnaire, name, content, content_type
):
    # The browser's claim is ignored: only the bytes count.
    document = document_store(
        file=upload(name, content, content_type="text/plain"), owner=owner, added_by=gestionnaire
    )

    assert document.content_type == content_type
    assert store.read(document.file.name) == content


def test_it_returns_the_existing_document_for_identical_content_on_the_same_owner(
    store, owner, gestionnaire, other_gestionnaire
):
    content = pdf_bytes()
    first = document_store(file=upload("a.pdf", content), owner=owner, added_by=gestionnaire)

    again = document_store(
        file=upload("copie.pdf", content), owner=owner, added_by=other_gestionnaire
    )

    assert again.pk == first.pk
    assert (first.is_new, again.is_new) == (True, False)
    assert Document.objects.count() == 1
    assert len(store.keys()) == 1


def test_it_links_identical_content_of_another_owner_to_the_same_bytes(
    store, owner, other_owner, gestionnaire
):
    content = pdf_bytes()
    first = document_store(file=upload("a.pdf", content), owner=owner, added_by=gestionnaire)

    second = document_store(file=upload("b.pdf", content), owner=other_owner, added_by=gestionnaire)

    assert second.pk != first.pk
    assert second.is_new
    assert second.owner == other_owner
    assert second.original_filename == "b.pdf"
    assert second.file.name == first.file.name
    assert store.keys() == [first.file.name]


def test_it_writes_the_bytes_again_when_the_shared_copy_is_gone(
    store, owner, other_owner, gestionnaire
):
    content = pdf_bytes()
    first = document_store(file=upload("a.pdf", content), owner=owner, added_by=gestionnaire)
    first.file.storage.delete(first.file.name)  # lost outside the application

    second = document_store(file=upload("b.pdf", content), owner=other_owner, added_by=gestionnaire)

    assert second.file.name != first.file.name
    assert store.keys() == [second.file.name]
    assert store.read(second.file.name) == content


def test_it_refuses_the_same_content_twice_for_one_owner_in_the_database(owner, gestionnaire):
    document = document_store(file=upload("a.pdf", pdf_bytes()), owner=owner, added_by=gestionnaire)
    copy = Document(
        file=document.file.name,
        sha256=document.sha256,
        size=document.size,
        content_type=document.content_type,
        original_filename="copie.pdf",
        added_by=gestionnaire,
        owner_type=document.owner_type,
        owner_id=document.owner_id,
    )

    with pytest.raises(IntegrityError):
        copy.save()


def test_it_keeps_versions_as_a_chain(store, owner, gestionnaire, other_gestionnaire):
    first = document_store(
        file=upload("bail.pdf", pdf_bytes(text="v1")), owner=owner, added_by=gestionnaire
    )

    second = document_store(
        file=upload("bail signé.pdf", pdf_bytes(text="v2")),
        owner=owner,
        added_by=other_gestionnaire,
        previous=first,
    )

    second.refresh_from_db()
    assert second.previous == first
    assert second.owner == owner
    assert list(first.next_versions.all()) == [second]
    # Immutable: the replaced version and its bytes are still there.
    first.refresh_from_db()
    assert store.read(first.file.name) == pdf_bytes(text="v1")
    assert len(store.keys()) == 2


def test_it_refuses_a_second_new_version_of_the_same_document(owner, gestionnaire):
    first = document_store(
        file=upload("a.pdf", pdf_bytes(text="1")), owner=owner, added_by=gestionnaire
    )
    document_store(
        file=upload("b.pdf", pdf_bytes(text="2")),
        owner=owner,
        added_by=gestionnaire,
        previous=first,
    )

    with pytest.raises(ValidationError) as refused:
        document_store(
            file=upload("c.pdf", pdf_bytes(text="3")),
            owner=owner,
            added_by=gestionnaire,
            previous=first,
        )

    assert refused.value.messages == [
        "Ce document a déjà été remplacé par une version plus récente."
    ]
    assert Document.objects.count() == 2


def test_it_refuses_a_second_new_version_in_the_database(owner, gestionnaire):
    first = document_store(
        file=upload("a.pdf", pdf_bytes(text="1")), owner=owner, added_by=gestionnaire
    )
    second = document_store(
        file=upload("b.pdf", pdf_bytes(text="2")),
        owner=owner,
        added_by=gestionnaire,
        previous=first,
    )
    fork = Document(
        file=second.file.name,
        sha256="0" * 64,
        size=second.size,
        content_type=second.content_type,
        original_filename="fork.pdf",
        added_by=gestionnaire,
        owner_type=second.owner_type,
        owner_id=second.owner_id,
        previous=first,
    )

    with pytest.raises(IntegrityError):
        fork.save()


def test_it_refuses_a_new_version_for_another_owner(owner, other_owner, gestionnaire):
    first = document_store(
        file=upload("a.pdf", pdf_bytes(text="1")), owner=owner, added_by=gestionnaire
    )

    with pytest.raises(ValidationError) as refused:
        document_store(
            file=upload("b.pdf", pdf_bytes(text="2")),
            owner=other_owner,
            added_by=gestionnaire,
            previous=first,
        )

    assert refused.value.messages == [
        "Une nouvelle version doit appartenir au même dossier que le document qu’elle remplace."
    ]
    assert Document.objects.count() == 1


def test_it_refuses_a_new_version_identical_to_a_stored_one(store, owner, gestionnaire):
    content = pdf_bytes(text="1")
    first = document_store(file=upload("a.pdf", content), owner=owner, added_by=gestionnaire)

    with pytest.raises(ValidationError) as refused:
        document_store(
            file=upload("a-bis.pdf", content), owner=owner, added_by=gestionnaire, previous=first
        )

    assert refused.value.messages == [
        "Ce contenu est déjà enregistré pour ce dossier, sous le nom « a.pdf »."
    ]
    assert Document.objects.count() == 1
    assert len(store.keys()) == 1


@pytest.mark.parametrize(
    ("name", "kept_as"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\system32\\con.pdf", "con.pdf"),
        ("con.pdf", "con.pdf"),
        ("NUL", "NUL"),
        ("/etc/passwd", "passwd"),
        ("..", "document.pdf"),
        ("rapport\r\nSet-Cookie: x=1.pdf", "rapportSet-Cookie: x=1.pdf"),
    ],
)
def test_it_never_uses_the_uploaded_name_as_a_path(store, owner, gestionnaire, name, kept_as):
    content = pdf_bytes()
    file = File(io.BytesIO(content), name=name)  # as a hostile client sends it, unfiltered
    document = document_store(file=file, owner=owner, added_by=gestionnaire)

    assert KEY.match(document.file.name)
    assert document.original_filename == kept_as
    assert store.read(document.file.name) == content


def test_it_shortens_a_very_long_name_and_keeps_its_extension(owner, gestionnaire):
    document = document_store(
        file=upload("é" * 300 + ".pdf", pdf_bytes()), owner=owner, added_by=gestionnaire
    )

    assert len(document.original_filename) == 255
    assert document.original_filename.endswith("é.pdf")


def test_it_refuses_an_unsaved_owner(gestionnaire):
    from tests.factories import UserFactory

    with pytest.raises(ValidationError):
        document_store(
            file=upload("a.pdf", pdf_bytes()),
            owner=UserFactory.build(),
            added_by=gestionnaire,
        )

    assert Document.objects.count() == 0


def test_it_records_the_owner_as_content_type_and_id(owner, gestionnaire):
    document = document_store(file=upload("a.pdf", pdf_bytes()), owner=owner, added_by=gestionnaire)

    row = Document.objects.values("owner_type", "owner_id").get(pk=document.pk)
    assert row == {
        "owner_type": ContentType.objects.get_for_model(owner).pk,
        "owner_id": owner.pk,
    }
