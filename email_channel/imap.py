"""The only module that talks IMAP (through imap-tools, itself on the standard library's imaplib).

Errors of the network or the server become ImapUnavailable: the caller leaves the messages where
they are and tries again at the next beat. Nothing here knows about the database.
"""

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from django.conf import settings
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError, UnexpectedCommandStatusError

from email_channel.config import MailboxSettings

_FETCH_ITEM = re.compile(
    rb"UID (?P<uid>\d+)|RFC822\.SIZE (?P<size>\d+)|INTERNALDATE \"(?P<date>[^\"]+)\""
)


class ImapUnavailable(Exception):
    """The server cannot be reached or refused a command: try again later."""


@dataclass(frozen=True)
class Envelope:
    uid: int
    size: int
    internaldate: datetime | None


class ImapSession:
    def __init__(self, box, config: MailboxSettings):
        self._box = box
        self.config = config

    @property
    def _client(self) -> imaplib.IMAP4:
        return self._box.client

    def select(self, folder: str) -> int:
        """Select `folder` (read-write) and return its UIDVALIDITY."""
        self._box.folder.set(folder)
        status = self._box.folder.status(folder, ["UIDVALIDITY"])
        return int(status["UIDVALIDITY"])

    def ensure_folder(self, folder: str) -> None:
        if not self._box.folder.exists(folder):
            self._box.folder.create(folder)

    def envelopes(self, *, limit: int) -> list[Envelope]:
        """UID, size and INTERNALDATE of the oldest `limit` messages of the selected folder."""
        uids = self._box.uids("ALL")[:limit]
        if not uids:
            return []
        typ, data = self._client.uid("FETCH", ",".join(uids), "(UID RFC822.SIZE INTERNALDATE)")
        _check(typ, data)
        envelopes = []
        for line in data:
            if isinstance(line, tuple):
                line = line[0]
            if not line:
                continue
            found = {}
            for match in _FETCH_ITEM.finditer(line):
                found.update({k: v for k, v in match.groupdict().items() if v is not None})
            if "uid" in found:
                envelopes.append(
                    Envelope(
                        uid=int(found["uid"]),
                        size=int(found.get("size", 0)),
                        internaldate=_internaldate(found.get("date")),
                    )
                )
        return sorted(envelopes, key=lambda envelope: envelope.uid)

    def fetch(self, uids: list[int], *, headers_only: bool = False) -> dict[int, bytes]:
        """The raw bytes of these messages (without marking them read), by UID."""
        if not uids:
            return {}
        section = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
        typ, data = self._client.uid("FETCH", ",".join(map(str, uids)), f"(UID {section})")
        _check(typ, data)
        messages = {}
        for line in data:
            if isinstance(line, tuple):
                match = re.search(rb"UID (\d+)", line[0])
                if match:
                    messages[int(match.group(1))] = line[1]
        return messages

    def move(self, uids: list[int], folder: str) -> list[int]:
        """Move the messages still in the selected folder to `folder`; return the UIDs moved.

        A NOOP first brings the expunges of other sessions, so that a message another reader
        has just moved is not copied a second time (MOVE is COPY then EXPUNGE on the server).
        """
        if not uids:
            return []
        _check(*self._client.noop())
        present = set()
        for start in range(0, len(uids), 500):
            chunk = ",".join(str(uid) for uid in uids[start : start + 500])
            present.update(int(uid) for uid in self._box.uids(f"UID {chunk}"))
        moving = [uid for uid in uids if uid in present]
        if moving:
            self._box.move([str(uid) for uid in moving], folder, chunks=500)
        return moving

    def append(self, raw: bytes, folder: str, *, at: datetime, seen: bool = True) -> None:
        self._box.append(raw, folder, dt=at, flag_set=["\\Seen"] if seen else [])

    def contains_message_id(self, folder: str, message_id: str) -> bool:
        self._box.folder.set(folder)
        header = message_id.replace("\\", "").replace('"', "")
        return bool(self._box.uids(f'HEADER Message-ID "{header}"'))


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_INTERNALDATE = re.compile(
    r"^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$"
)


def _internaldate(value: bytes | None) -> datetime | None:
    """RFC 3501's date-time ("28-Nov-2026 09:15:00 +0100"), aware; None if unreadable."""
    match = _INTERNALDATE.match((value or b"").decode("ascii", errors="replace"))
    if not match or match.group(2).title() not in _MONTHS:
        return None
    day, month, year, hour, minute, second, sign, off_h, off_m = match.groups()
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    try:
        local = datetime(
            int(year), _MONTHS.index(month.title()) + 1, int(day), int(hour), int(minute),
            int(second), tzinfo=timezone(offset),
        )  # fmt: skip
    except ValueError:
        return None
    return local.astimezone(UTC)


def _check(typ, data) -> None:
    if typ != "OK":
        raise ImapUnavailable(f"IMAP command failed: {typ} {data!r}"[:500])


@contextmanager
def session(config: MailboxSettings) -> Iterator[ImapSession]:
    """A logged-in session on `config`'s server, logged out at the end whatever happens."""
    timeout = settings.MAILBOX_IMAP_TIMEOUT
    try:
        if config.security == "tls":
            box = MailBox(config.host, config.port, timeout=timeout, ssl_context=_tls())
        elif config.security == "starttls":
            box = MailBoxStartTls(config.host, config.port, timeout=timeout, ssl_context=_tls())
        else:
            box = MailBoxUnencrypted(config.host, config.port, timeout=timeout)
        box.login(config.user, config.password, initial_folder=None)
    except MailboxLoginError as exc:
        raise ImapUnavailable(f"login refused for {config.user} on {config.host}") from exc
    except (TimeoutError, OSError, imaplib.IMAP4.error) as exc:
        raise ImapUnavailable(f"{config.host}:{config.port}: {exc}") from exc
    try:
        yield ImapSession(box, config)
    except (OSError, imaplib.IMAP4.error, UnexpectedCommandStatusError) as exc:
        raise ImapUnavailable(f"{config.host}:{config.port}: {exc}") from exc
    finally:
        # The connection may be gone already (server down): nothing left to close then.
        with contextlib.suppress(Exception):
            box.logout()


def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()
