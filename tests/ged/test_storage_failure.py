"""A storage failure gives a clear message and leaves nothing behind: no row, no file."""

import errno
import socket

import pytest
from django.core.files.storage import FileSystemStorage

from ged import services
from ged.models import Document
from ged.services import StorageUnavailable, document_store
from tests.ged.conftest import pdf_bytes, s3_options, upload

UNAVAILABLE = (
    "Le stockage des documents est indisponible pour le moment ; rien n’a été enregistré. "
    "Réessayez dans quelques minutes."
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_it_reports_an_unreachable_s3_server_and_saves_nothing(settings, owner, gestionnaire):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_options(f"http://127.0.0.1:{closed_port()}", "ged"),
        },
    }

    with pytest.raises(StorageUnavailable) as refused:
        document_store(file=upload("a.pdf", pdf_bytes()), owner=owner, added_by=gestionnaire)

    assert refused.value.messages == [UNAVAILABLE]
    assert Document.objects.count() == 0


def test_it_reports_an_unwritable_folder_and_saves_nothing(settings, tmp_path, owner, gestionnaire):
    # Not a folder at all (chmod would not stop root, who runs the tests on CI).
    location = tmp_path / "not-a-folder"
    location.write_bytes(b"")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }

    with pytest.raises(StorageUnavailable) as refused:
        document_store(file=upload("a.pdf", pdf_bytes()), owner=owner, added_by=gestionnaire)

    assert refused.value.messages == [UNAVAILABLE]
    assert Document.objects.count() == 0
    assert location.read_bytes() == b""


class DiskFullStorage(FileSystemStorage):
    """A disk that fills up halfway through the write: the partial file is really written."""

    def _save(self, name, content):
        path = self.path(name)
        import os

        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as partial:
            partial.write(content.read(100))
        raise OSError(errno.ENOSPC, "No space left on device")


def test_it_removes_a_half_written_file_when_the_disk_fills_up(
    settings, tmp_path, owner, gestionnaire
):
    root = tmp_path / "full"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": f"{__name__}.DiskFullStorage",
            "OPTIONS": {"location": str(root)},
        },
    }

    with pytest.raises(StorageUnavailable):
        document_store(file=upload("a.pdf", pdf_bytes()), owner=owner, added_by=gestionnaire)

    assert Document.objects.count() == 0
    assert [path for path in root.rglob("*") if path.is_file()] == []


def test_it_removes_the_new_file_when_an_identical_upload_wins_the_race(
    store, monkeypatch, owner, gestionnaire, other_gestionnaire
):
    content = pdf_bytes()
    winner = document_store(file=upload("a.pdf", content), owner=owner, added_by=gestionnaire)
    # The loser checked for the content before the winner committed: it writes its own copy,
    # then the database's unique constraint refuses its row.
    real_lookup = services._existing_for_owner
    calls = []

    def lookup_that_misses_once(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real_lookup(**kwargs)

    monkeypatch.setattr(services, "_existing_for_owner", lookup_that_misses_once)
    monkeypatch.setattr(Document, "validate_constraints", lambda self, exclude=None: None)
    monkeypatch.setattr(services, "_shared_key", lambda sha256: None)

    loser = document_store(file=upload("b.pdf", content), owner=owner, added_by=other_gestionnaire)

    assert loser.pk == winner.pk
    assert not loser.is_new
    assert Document.objects.count() == 1
    assert store.keys() == [winner.file.name]


def test_it_reports_storage_down_when_checking_for_shared_bytes(
    settings, store, owner, other_owner, gestionnaire
):
    content = pdf_bytes()
    document_store(file=upload("a.pdf", content), owner=owner, added_by=gestionnaire)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_options(f"http://127.0.0.1:{closed_port()}", "ged"),
        },
    }

    with pytest.raises(StorageUnavailable):
        document_store(file=upload("a.pdf", content), owner=other_owner, added_by=gestionnaire)

    assert Document.objects.count() == 1
