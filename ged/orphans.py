"""Stored bytes that no document references: what a rolled-back transaction leaves behind.

A document's file is written before its row (the row must name existing bytes); when the
transaction that would have committed the row rolls back later (a constraint met further on in
a batch of the email channel, a worker killed), the bytes stay in storage, never referenced and
never served. They are found here, day folder by day folder (`ged/<yyyy>/<mm>/<dd>/`), only in
folders older than a grace period, so that a transaction still running is never overtaken.
Removing them deletes no document: no row names them, and no row can name them later (a shared
key is always taken from an existing row, see `services._shared_key`).
"""

import logging
from collections.abc import Iterator
from datetime import date

from ged.models import Document

logger = logging.getLogger(__name__)

ROOT = "ged"


def _storage():
    return Document._meta.get_field("file").storage


def _listdir(path: str) -> tuple[list[str], list[str]]:
    try:
        return _storage().listdir(path)
    except FileNotFoundError:  # a local folder not made yet (S3 answers an empty listing)
        return [], []


def _day_folders(before: date) -> Iterator[str]:
    for year in sorted(_listdir(ROOT)[0]):
        for month in sorted(_listdir(f"{ROOT}/{year}")[0]):
            for day in sorted(_listdir(f"{ROOT}/{year}/{month}")[0]):
                try:
                    folder_date = date(int(year), int(month), int(day))
                except ValueError:
                    continue  # not one of ours: left alone
                if folder_date < before:
                    yield f"{ROOT}/{year}/{month}/{day}"


def orphans_find(*, before: date) -> Iterator[str]:
    """The stored keys, in the day folders before `before`, that no document references.

    One listing and one query per day folder, whatever the number of files in it.
    """
    for folder in _day_folders(before):
        keys = {f"{folder}/{name}" for name in _listdir(folder)[1]}
        referenced = set(Document.objects.filter(file__in=keys).values_list("file", flat=True))
        yield from sorted(keys - referenced)


def orphans_remove(keys: list[str]) -> int:
    """Remove `keys` from storage, checking each again against the documents; the count removed."""
    storage = _storage()
    referenced = set(Document.objects.filter(file__in=keys).values_list("file", flat=True))
    removed = 0
    for key in keys:
        if key in referenced:
            continue
        storage.delete(key)
        logger.info("Removed the unreferenced stored file %s", key)
        removed += 1
    return removed
