"""Writes to the GED. `ged/` is the only app that touches storage backends.

Nothing here knows which storage is configured (local folder or S3): everything goes through
`Document.file.storage`, i.e. Django's `STORAGES["default"]`.
"""

import hashlib
import logging
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.errors import DependencyError

from ged import sniffing
from ged.models import Document

logger = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_FALLBACK_NAME = "document"


class StorageUnavailable(ValidationError):
    """The document store (disk or S3) failed; nothing was saved and the user may retry."""


def document_store(
    *, file, owner: models.Model, added_by, previous: Document | None = None
) -> Document:
    """Store `file` as a document of `owner`, or as a new version of `previous`.

    1. Read the bytes once: size within GED_MAX_UPLOAD_SIZE, not empty, SHA-256.
    2. Sniff the type from the bytes; refuse HTML/SVG, types not in GED_ALLOWED_CONTENT_TYPES, a
       name that claims another type than the content, and a PDF that does not parse.
    3. De-duplicate by SHA-256: the same content already attached to `owner` is that document
       (returned as is, `is_new = False`); the same content attached to another owner gets a new
       row that shares the stored key, so the bytes are never stored twice.
    4. Otherwise write the bytes under a key made of the date and a random part (never the
       uploaded name), then insert the row. Storage I/O happens outside any transaction we open;
       if the insert fails, the bytes just written are removed.

    Raises ValidationError (French message) and stores nothing when the file is refused;
    StorageUnavailable (a ValidationError) when the storage fails. Permission to attach to
    `owner` is the caller's to check (`ged.access.can_attach`).

    If the caller wraps this in its own transaction that later rolls back, the row goes but the
    bytes written in step 4 stay in storage, unreferenced and never served: call it outside
    `transaction.atomic()` when possible.
    """
    if owner is None or owner.pk is None:
        raise ValidationError(_("A document must belong to a saved record."))
    owner_type = ContentType.objects.get_for_model(owner)
    if previous is not None:
        _check_previous(previous, owner_type=owner_type, owner_id=owner.pk)
    document = document_prepare(file=file, owner_type=owner_type, added_by=added_by)
    document.owner_id = owner.pk
    document.previous = previous
    sha256 = document.sha256

    existing = _existing_for_owner(owner_type=owner_type, owner_id=owner.pk, sha256=sha256)
    if existing is not None:
        if previous is not None:
            raise ValidationError(
                _("This content is already stored for this record, as “%(name)s”.")
                % {"name": existing.original_filename}
            )
        existing.is_new = False
        return existing

    shared_key = _shared_key(sha256)
    document.file.name = shared_key or _new_key(document.content_type)

    if shared_key is None:
        document.file.name = _write(file, key=document.file.name)
    try:
        with transaction.atomic():
            document.save(force_insert=True)
    except IntegrityError:
        if shared_key is None:
            _remove(document.file.name)
        # Lost a race with an identical upload, or with another new version of `previous`.
        existing = _existing_for_owner(owner_type=owner_type, owner_id=owner.pk, sha256=sha256)
        if existing is not None and previous is None:
            existing.is_new = False
            return existing
        if previous is not None and previous.next_versions.exists():
            raise ValidationError(_replaced_message()) from None
        raise
    except BaseException:
        if shared_key is None:
            _remove(document.file.name)
        raise
    document.is_new = True
    return document


def document_prepare(*, file, owner_type: ContentType, added_by) -> Document:
    """Check `file` by the GED's rules and return its unsaved row, without owner or storage key.

    Steps 1 and 2 of `document_store`, shared by it and by `documents_store` (the batches of the
    email channel): size, emptiness, SHA-256, sniffed type, readable PDF. Raises ValidationError
    (French message) when the file is refused. No query: the row's field checks run in Python;
    its foreign keys come from rows the caller holds and its constraints (not empty, hex SHA-256,
    required metadata, one row per owner and content) are the database's, checked by the insert.
    """
    original_filename = clean_filename(getattr(file, "name", None) or "")
    size, sha256, head = _measure(file, name=original_filename)
    content_type = _check_type(file, head=head, name=original_filename)
    if original_filename == _FALLBACK_NAME:
        original_filename += sniffing.EXTENSIONS[content_type]
    document = Document(
        sha256=sha256,
        size=size,
        content_type=content_type,
        original_filename=original_filename,
        added_by=added_by,
        added_at=timezone.now(),
        owner_type=owner_type,
    )
    document.full_clean(
        exclude=["file", "owner_id", "owner_type", "added_by", "previous"],
        validate_unique=False,
        validate_constraints=False,
    )
    return document


@dataclass
class PendingDocument:
    """A document checked by `document_prepare`, its bytes, and the record it will belong to."""

    document: Document
    file: object
    owner: models.Model  # saved by the time `documents_store` runs


def documents_store(pending: list[PendingDocument]) -> list[Document]:
    """Store checked documents in bulk, inside the caller's transaction: one batch of the email
    channel. The same rules as `document_store` without a new version (never one here):

    1. identical content for the same owner is one document (in this batch, or already stored);
    2. identical bytes already in storage, or twice in this batch, are stored once (shared key);
    3. new bytes are written under a new random key, then every row is inserted in one query.
    Raises StorageUnavailable when a write fails; the bytes this call wrote are removed when it
    or the insert fails (not when the caller's transaction rolls back later: those bytes stay,
    unreferenced and never served, as with `document_store`, until `manage.py ged_orphans
    --delete`). Three queries in all.
    """
    if not pending:
        return []
    storage = Document._meta.get_field("file").storage
    shas = {p.document.sha256 for p in pending}
    taken = set(
        Document.objects.filter(
            sha256__in=shas, owner_id__in={p.owner.pk for p in pending}
        ).values_list("owner_type_id", "owner_id", "sha256")
    )
    keys: dict[str, str] = {}
    for sha, key in (
        Document.objects.filter(sha256__in=shas).order_by().values_list("sha256", "file").distinct()
    ):
        if sha not in keys:
            try:
                if storage.exists(key):
                    keys[sha] = key
            except Exception as exc:
                raise _storage_unavailable(exc) from exc
    written: list[str] = []
    documents = []
    try:
        for item in pending:
            document = item.document
            document.owner_id = item.owner.pk
            identity = (document.owner_type_id, document.owner_id, document.sha256)
            if identity in taken:
                continue
            taken.add(identity)
            if document.sha256 in keys:
                document.file.name = keys[document.sha256]
            else:
                document.file.name = _write(item.file, key=_new_key(document.content_type))
                written.append(document.file.name)
                keys[document.sha256] = document.file.name
            document.is_new = True
            documents.append(document)
        with transaction.atomic():
            Document.objects.bulk_create(documents)
    except BaseException:
        for key in written:
            _remove(key)
        raise
    return documents


def clean_filename(name: str) -> str:
    """The uploaded name as metadata: its last path part, without control characters.

    It is only shown and offered back on download (safely encoded); it never becomes a path.
    """
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/")
    name = PurePosixPath(name).name if "/" in name else name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    name = name.strip(" .")
    if not name:
        return _FALLBACK_NAME
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        name = (stem or name)[: 255 - len(ext) - 1] + (f".{ext}" if ext else "")
    return name


def _check_previous(previous: Document, *, owner_type: ContentType, owner_id: int) -> None:
    if previous.owner_type_id != owner_type.pk or previous.owner_id != owner_id:
        raise ValidationError(
            _("A new version must belong to the same record as the document it replaces.")
        )
    if previous.next_versions.exists():
        raise ValidationError(_replaced_message())


def _replaced_message() -> str:
    return _("This document has already been replaced by a newer version.")


def _measure(file, *, name: str) -> tuple[int, str, bytes]:
    """Size, SHA-256 and first bytes of `file`, refusing it as soon as it is too large."""
    limit = settings.GED_MAX_UPLOAD_SIZE
    declared = getattr(file, "size", None)
    if declared is not None and declared > limit:
        raise ValidationError(_too_large_message(name, declared, limit))
    digest = hashlib.sha256()
    size = 0
    head = b""
    file.seek(0)
    while chunk := file.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ValidationError(_too_large_message(name, size, limit))
        if len(head) < sniffing.HEAD_SIZE:
            head += chunk[: sniffing.HEAD_SIZE - len(head)]
        digest.update(chunk)
    file.seek(0)
    if size == 0:
        raise ValidationError(_("The file “%(name)s” is empty.") % {"name": name})
    return size, digest.hexdigest(), head


def _too_large_message(name: str, size: int, limit: int) -> str:
    return _("The file “%(name)s” is too large (%(size)s); the limit is %(limit)s.") % {
        "name": name,
        "size": filesizeformat(size),
        "limit": filesizeformat(limit),
    }


TYPE_LABELS = {
    sniffing.PDF: "PDF",
    sniffing.JPEG: "JPEG",
    sniffing.PNG: "PNG",
    sniffing.TIFF: "TIFF",
    sniffing.EMAIL: "e-mail (.eml)",
}


def accepted_types_label() -> str:
    """The allowed types for people, from GED_ALLOWED_CONTENT_TYPES: "PDF, JPEG or PNG"."""
    labels = [TYPE_LABELS[t] for t in sniffing.KNOWN_TYPES if t in _allowed_types()]
    return get_text_list(labels, _("or"))


def accept_attribute() -> str:
    """The file input's `accept` for the allowed types: their extensions, then their MIME types.

    Only a hint to the browser's file picker; the content decides (`_check_type`).
    """
    allowed = [t for t in sniffing.KNOWN_TYPES if t in _allowed_types()]
    extensions = [ext for ext, t in sniffing.TYPES_BY_EXTENSION.items() if t in allowed]
    return ",".join(extensions + allowed)


def _allowed_types() -> set[str]:
    return set(settings.GED_ALLOWED_CONTENT_TYPES)


def _type_label(content_type: str) -> str:
    return TYPE_LABELS.get(content_type, "HTML/SVG")


def _check_type(file, *, head: bytes, name: str) -> str:
    content_type = sniffing.sniff(head)
    claimed = sniffing.TYPES_BY_EXTENSION.get(PurePosixPath(name).suffix.lower())
    if content_type == sniffing.MARKUP:
        raise ValidationError(
            _(
                "The file “%(name)s” is a web page (HTML or SVG); such files are refused "
                "because they can carry scripts."
            )
            % {"name": name}
        )
    if claimed is not None and claimed != content_type:
        if content_type is None:
            message = _("The file “%(name)s” is named as %(claimed)s but its content is not.")
        else:
            message = _(
                "The file “%(name)s” is named as %(claimed)s but its content is %(actual)s."
            )
        raise ValidationError(
            message
            % {
                "name": name,
                "claimed": _type_label(claimed),
                "actual": content_type and _type_label(content_type),
            }
        )
    if content_type not in settings.GED_ALLOWED_CONTENT_TYPES:
        raise ValidationError(
            _("The type of the file “%(name)s” is not accepted. Accepted types: %(types)s.")
            % {
                "name": name,
                "types": ", ".join(TYPE_LABELS[t] for t in settings.GED_ALLOWED_CONTENT_TYPES),
            }
        )
    if content_type == sniffing.PDF:
        _check_pdf(file, name=name)
    return content_type


def _check_pdf(file, *, name: str) -> None:
    """A PDF must open: a damaged scan is better refused now than discovered in a year."""
    file.seek(0)
    try:
        reader = PdfReader(file, strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError:
                # An AES-encrypted file whose decryption needs a library we do not ship: its
                # structure has parsed; the browser's viewer will ask for a password if any.
                return
            if not opened:
                raise ValidationError(
                    _(
                        "The PDF file “%(name)s” is protected by a password; save it without "
                        "a password and try again."
                    )
                    % {"name": name}
                )
        pages = reader.pages
        if len(pages) == 0:
            raise ValueError("no page")
        for page in pages:
            page.mediabox  # noqa: B018 (resolves every page object: a truncated file fails here)
    except ValidationError:
        raise
    except Exception as exc:
        logger.info("Refused an unreadable PDF %r: %s", name, exc)
        raise ValidationError(
            _("The file “%(name)s” is not a readable PDF (damaged or truncated).") % {"name": name}
        ) from None
    finally:
        file.seek(0)


def _existing_for_owner(*, owner_type: ContentType, owner_id: int, sha256: str):
    return Document.objects.filter(owner_type=owner_type, owner_id=owner_id, sha256=sha256).first()


def _shared_key(sha256: str) -> str | None:
    """The key already holding these bytes for another owner, if it is still in storage."""
    keys = Document.objects.filter(sha256=sha256).values_list("file", flat=True).distinct()
    storage = Document._meta.get_field("file").storage
    for key in keys:
        try:
            if storage.exists(key):
                return key
        except Exception as exc:
            raise _storage_unavailable(exc) from exc
    return None


def _new_key(content_type: str) -> str:
    # Date for humans browsing the bucket; randomness so that the name can neither be guessed
    # nor collide; the extension from the sniffed type. The uploaded name plays no part.
    return f"ged/{timezone.now():%Y/%m/%d}/{uuid.uuid4().hex}{sniffing.EXTENSIONS[content_type]}"


def _write(file, *, key: str) -> str:
    storage = Document._meta.get_field("file").storage
    file.seek(0)
    content = file if isinstance(file, File) else File(file)
    try:
        saved = storage.save(key, content)
    except Exception as exc:
        _remove(key)  # a local write that failed halfway leaves a partial file behind
        raise _storage_unavailable(exc) from exc
    if saved != key:
        # The key is random and new: a different name means the storage altered it.
        logger.warning("Storage saved %s as %s", key, saved)
    return saved


def _remove(key: str) -> None:
    """Remove bytes that no row references (only ever the key this call has just written)."""
    storage = Document._meta.get_field("file").storage
    try:
        storage.delete(key)
    except Exception:
        logger.exception("Could not remove the unreferenced stored file %s", key)


def _storage_unavailable(exc: Exception) -> StorageUnavailable:
    logger.error("Document storage failed: %r", exc)
    return StorageUnavailable(
        _(
            "The document store is unavailable right now; nothing was saved. "
            "Try again in a few minutes."
        ),
        code="storage_unavailable",
    )
