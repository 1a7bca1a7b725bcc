"""The mailboxes to read, from the environment: one URL each (no Django import: settings use it).

    MAILBOX_URLS=imaps://gestion%40agence.fr:secret@imap.agence.fr/INBOX?archive=Archive&sent=Sent

- scheme: `imaps` (TLS from the first byte, port 993), `imap+starttls` (port 143, then STARTTLS),
  `imap` (plain, port 143: for a server on the loopback only, as in the tests);
- user and password percent-encoded (`@` is `%40`, `,` is `%2C`);
- path: the folder to read (default INBOX);
- query: `archive` (where ingested messages go, default Archive), `sent` (where copies of our
  email replies are appended; none by default), `name` (the mailbox's name in the application,
  default user@host), `address` (the mailbox's email address, the Reply-To of our replies to
  the emails it received; default the user when it is an address).
Several mailboxes: several URLs separated by commas.
"""

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

SCHEMES = {"imap": ("plain", 143), "imap+starttls": ("starttls", 143), "imaps": ("tls", 993)}
_KNOWN_PARAMETERS = {"archive", "sent", "name", "address"}


@dataclass(frozen=True)
class MailboxSettings:
    name: str
    host: str
    port: int
    security: str  # "plain", "starttls" or "tls"
    user: str
    password: str
    folder: str
    archive_folder: str
    sent_folder: str
    address: str = ""

    def __repr__(self) -> str:  # never print the password (logs, tracebacks)
        return f"MailboxSettings({self.name!r}, {self.security}://{self.host}:{self.port})"


def parse_mailbox_url(url: str) -> MailboxSettings:
    """One mailbox from its URL; ValueError naming what is wrong (never the password)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise ValueError(
            f"unknown scheme {parts.scheme!r}; use one of {', '.join(sorted(SCHEMES))}"
        )
    security, default_port = SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise ValueError(f"bad port in the URL of host {parts.hostname!r}") from exc
    if not parts.hostname:
        raise ValueError("a mailbox URL needs a host")
    if not parts.username or parts.password is None:
        raise ValueError(f"the mailbox on {parts.hostname} needs a user and a password")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - _KNOWN_PARAMETERS
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)} for {parts.hostname}")
    user = unquote(parts.username)
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    archive = query.get("archive", ["Archive"])[-1].strip()
    if not archive or archive == folder:
        raise ValueError(f"the archive folder of {user} must differ from the folder it reads")
    address = query.get("address", [""])[-1].strip() or (user if "@" in user else "")
    if address and not _looks_like_an_address(address):
        raise ValueError(f"the address of the mailbox of {user} is not an email address")
    return MailboxSettings(
        name=(query.get("name", [""])[-1].strip() or f"{user}@{parts.hostname}")[:100],
        host=parts.hostname,
        port=port,
        security=security,
        user=user,
        password=unquote(parts.password),
        folder=folder,
        archive_folder=archive,
        sent_folder=query.get("sent", [""])[-1].strip(),
        address=address,
    )


def _looks_like_an_address(value: str) -> bool:
    # No Django import here (settings use this module): the shape only; the SMTP server judges.
    local, _at, domain = value.rpartition("@")
    return bool(local) and "." in domain and not any(c.isspace() for c in value)


def parse_mailbox_urls(urls: list[str]) -> tuple[MailboxSettings, ...]:
    mailboxes = tuple(parse_mailbox_url(url) for url in urls if url.strip())
    names = [mailbox.name for mailbox in mailboxes]
    if len(set(names)) != len(names):
        raise ValueError("two mailboxes have the same name; give them distinct `name=` parameters")
    return mailboxes
