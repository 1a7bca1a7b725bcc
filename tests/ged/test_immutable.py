"""Issue 4: a document is never changed nor deleted, by the code or by SQL; versions are new."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, InternalError, connection, models, transaction

from ged.models import Document, DocumentImmutableError
from ged.services import PendingDocument, document_prepare, document_store, documents_store
from tests.factories import UserFactory
from tests.ged.conftest import PNG, pdf_bytes, upload

REFUSED = (IntegrityError, InternalError)


@pytest.fixture
def document(owner, gestionnaire):
    return document_store(file=upload("bail.pdf", pdf_bytes()), owner=owner, added_by=gestionnaire)


def snapshot(document) -> dict:
    return Document.objects.filter(pk=document.pk).values().get()


def _changes(document, other_owner, gestionnaire) -> dict:
    other = document_store(
        file=upload("autre.pdf", pdf_bytes(text="autre")), owner=other_owner, added_by=gestionnaire
    )
    return {
        "file": "ged/2020/01/01/" + "0" * 32 + ".pdf",
        "sha256": "f" * 64,
        "size": document.size + 1,
        "content_type": "image/png",
        "original_filename": "autre-nom.pdf",
        "added_by_id": UserFactory(username="intrus").pk,
        "added_at": document.added_at - dt.timedelta(days=1),
        "owner_type_id": ContentType.objects.get_for_model(ContentType).pk,
        "owner_id": document.owner_id + 1000,
        "previous_id": other.pk,
    }


@pytest.mark.parametrize(
    "column",
    [
        "file",
        "sha256",
        "size",
        "content_type",
        "original_filename",
        "added_by_id",
        "added_at",
        "owner_type_id",
        "owner_id",
        "previous_id",
    ],
)
def test_the_database_refuses_to_change_a_column(document, other_owner, gestionnaire, column):
    value = _changes(document, other_owner, gestionnaire)[column]
    before = snapshot(document)

    with (
        pytest.raises(REFUSED, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE ged_document SET {column} = %s WHERE id = %s",  # noqa: S608 (a literal)
            [value, document.pk],
        )

    assert snapshot(document) == before


def test_the_database_refuses_an_update_that_bypasses_the_model(document):
    # A plain QuerySet, not the model's: only the database stands in the way.
    with pytest.raises(REFUSED, match="immutable"), transaction.atomic():
        models.QuerySet(Document).filter(pk=document.pk).update(original_filename="x.pdf")

    document.refresh_from_db()
    assert document.original_filename == "bail.pdf"


def test_the_database_lets_an_update_that_changes_nothing_pass(document):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ged_document SET original_filename = original_filename WHERE id = %s",
            [document.pk],
        )
        assert cursor.rowcount == 1


def test_the_database_refuses_to_delete_a_document(document):
    with (
        pytest.raises(REFUSED, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM ged_document WHERE id = %s", [document.pk])
    with pytest.raises(REFUSED, match="immutable"), transaction.atomic():
        models.QuerySet(Document).filter(pk=document.pk).delete()

    assert Document.objects.filter(pk=document.pk).exists()


def test_the_model_refuses_to_save_an_existing_document(document):
    document.original_filename = "autre-nom.pdf"

    with pytest.raises(DocumentImmutableError, match="new version"):
        document.save()

    document.refresh_from_db()
    assert document.original_filename == "bail.pdf"


def test_the_model_refuses_to_delete_a_document(document):
    with pytest.raises(DocumentImmutableError):
        document.delete()
    with pytest.raises(DocumentImmutableError):
        Document.objects.filter(pk=document.pk).delete()
    with pytest.raises(DocumentImmutableError):
        Document.objects.filter(pk=document.pk).update(original_filename="x.pdf")
    with pytest.raises(DocumentImmutableError):
        Document.objects.bulk_update([document], ["original_filename"])

    assert Document.objects.filter(pk=document.pk, original_filename="bail.pdf").exists()


def test_versions_duplicates_and_batches_still_insert(owner, other_owner, gestionnaire):
    first = document_store(
        file=upload("a.pdf", pdf_bytes(text="1")), owner=owner, added_by=gestionnaire
    )
    before = snapshot(first)

    second = document_store(
        file=upload("b.pdf", pdf_bytes(text="2")),
        owner=owner,
        added_by=gestionnaire,
        previous=first,
    )
    again = document_store(
        file=upload("a.pdf", pdf_bytes(text="1")), owner=owner, added_by=gestionnaire
    )
    shared = document_store(
        file=upload("a.pdf", pdf_bytes(text="1")), owner=other_owner, added_by=gestionnaire
    )
    owner_type = ContentType.objects.get_for_model(owner)
    batch = documents_store(
        [
            PendingDocument(
                document=document_prepare(
                    file=upload("scan.png", PNG), owner_type=owner_type, added_by=gestionnaire
                ),
                file=upload("scan.png", PNG),
                owner=owner,
            )
        ]
    )

    assert second.previous == first and second.is_new
    assert again.pk == first.pk and not again.is_new
    assert shared.pk != first.pk and shared.file.name == first.file.name
    assert [d.is_new for d in batch] == [True]
    assert Document.objects.count() == 4
    assert snapshot(first) == before  # the replaced version is untouched


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_still_empties_the_table(owner, gestionnaire):
    # Its flush at teardown is a TRUNCATE on PostgreSQL, which fires no row trigger: were the
    # DELETE trigger in its way, this test would end in an error.
    document_store(file=upload("a.pdf", pdf_bytes()), owner=owner, added_by=gestionnaire)

    assert Document.objects.count() == 1
