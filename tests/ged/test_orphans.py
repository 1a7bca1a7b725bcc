"""Bytes left by a rolled-back transaction are found, and removed on demand; documents never."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from ged.models import Document
from ged.services import document_store
from tests.ged.conftest import pdf_bytes, upload

pytestmark = pytest.mark.django_db


class RolledBack(Exception):
    pass


def _store(owner, user, text: str) -> Document:
    return document_store(
        file=upload(f"{text}.pdf", pdf_bytes(text=text)), owner=owner, added_by=user
    )


def _store_rolled_back(owner, user, text: str) -> None:
    with pytest.raises(RolledBack), transaction.atomic():
        _store(owner, user, text)
        raise RolledBack  # e.g. a constraint met later in the same transaction


def test_it_finds_and_removes_only_what_no_document_references(store, owner, gestionnaire, capsys):
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        kept = _store(owner, gestionnaire, "kept")
        _store_rolled_back(owner, gestionnaire, "lost")
    _store_rolled_back(owner, gestionnaire, "today")  # a transaction that may still be running
    keys = store.keys()
    assert len(keys) == 3 and Document.objects.count() == 1
    old_folder = kept.file.name.rsplit("/", 1)[0]
    (orphan,) = [key for key in keys if key.startswith(old_folder) and key != kept.file.name]

    call_command("ged_orphans")
    assert capsys.readouterr().out.splitlines() == [
        orphan,
        "1 unreferenced file(s); --delete removes them.",
    ]
    assert store.keys() == keys  # listed, not removed

    call_command("ged_orphans", "--delete")
    assert capsys.readouterr().out.splitlines()[-1] == "1 unreferenced file(s) removed."
    assert store.keys() == sorted(set(keys) - {orphan})
    assert store.read(kept.file.name) == kept.file.open("rb").read()


def test_a_shared_key_is_never_an_orphan(store, owner, other_owner, gestionnaire, capsys):
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        first = _store(owner, gestionnaire, "same")
        second = _store(other_owner, gestionnaire, "same")
    assert first.file.name == second.file.name

    call_command("ged_orphans", "--delete", "--days", "1")

    assert capsys.readouterr().out.splitlines() == ["0 unreferenced file(s) removed."]
    assert store.keys() == [first.file.name]


def test_it_refuses_to_look_at_todays_folder():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("ged_orphans", "--days", "0")


def test_an_empty_storage_has_no_orphan(store, capsys):
    call_command("ged_orphans")
    assert capsys.readouterr().out.splitlines() == [
        "0 unreferenced file(s); --delete removes them."
    ]
