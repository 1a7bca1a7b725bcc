"""Reads of the GED."""

from django.contrib.contenttypes.models import ContentType
from django.db import models

from ged.models import Document


def documents_for(owner: models.Model) -> list[Document]:
    """The current documents of `owner`, newest first, in one query.

    Each document carries `older_versions`: the versions it replaced, newest first. Replaced
    versions are not listed on their own.
    """
    owner_type = ContentType.objects.get_for_model(owner)  # cached after the first call
    documents = list(
        Document.objects.filter(owner_type=owner_type, owner_id=owner.pk).select_related("added_by")
    )
    return _current_with_history(documents)


def document_versions(document: Document) -> list[Document]:
    """Every version of `document`'s chain (newer and older), newest first, in one query."""
    same_owner = list(
        Document.objects.filter(
            owner_type_id=document.owner_type_id, owner_id=document.owner_id
        ).select_related("added_by")
    )
    for current in _current_with_history(same_owner):
        chain = [current, *current.older_versions]
        if any(version.pk == document.pk for version in chain):
            return chain
    return [document]


def _current_with_history(documents: list[Document]) -> list[Document]:
    by_pk = {document.pk: document for document in documents}
    replaced = {document.previous_id for document in documents if document.previous_id}
    current = [document for document in documents if document.pk not in replaced]
    for document in current:
        document.older_versions = []
        version = by_pk.get(document.previous_id)
        while version is not None:
            document.older_versions.append(version)
            version = by_pk.get(version.previous_id)
    return current
