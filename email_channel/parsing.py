"""Turn the raw bytes of an email into what the application keeps, or say why they are malformed.

No database here: `parse_email(raw)` returns a ParsedEmail or raises MalformedEmail with a French
reason shown to the direction on the quarantine list. The limits (parts, nesting) come from the
settings; the message size is checked before the bytes are even fetched (see services).
"""

import email
import email.errors
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from django.conf import settings
from django.utils.translation import gettext as _

from email_channel.html_text import html_to_text

# Structural defects after which the parts cannot be trusted (the message was cut, or its MIME
# tree is not what it says): quarantine rather than register half a message.
_FATAL_DEFECTS = (
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.CloseBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
    email.errors.MissingHeaderBodySeparatorDefect,
    email.errors.InvalidMultipartContentTransferEncodingDefect,
)
# Damage confined to one encoded attachment: that attachment is refused, the message is kept.
_DAMAGED_PAYLOAD_DEFECTS = (
    email.errors.InvalidBase64PaddingDefect,
    email.errors.InvalidBase64CharactersDefect,
    email.errors.InvalidBase64LengthDefect,
)
# WHATWG: these labels mean windows-1252 in practice (Outlook writes € and œ under them).
_LATIN1_LABELS = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii", "l1"}
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# What PostgreSQL's text type refuses: NUL (a quoted-printable "=00" in a body, an encoded word
# "=?utf-8?q?Demande=00?=" in a subject) and lone surrogates, which psycopg cannot encode as
# UTF-8. Either would make the INSERT of the message's row fail, for every later run too.
_PG_REFUSED = re.compile("[\x00\ud800-\udfff]")


class _ParseOncePolicy(policy.EmailPolicy):
    """`policy.default`, except that a message's header is parsed once, not at every read.

    Under `policy.default`, every `message.get(...)`, `get_content_type()`, `get_filename()`…
    parses the header again (about ten Content-Type parses per message): most of the parsing
    time in the email channel's benchmark. Header objects are immutable strings; the cache is
    the message's own (one policy per message), so nothing is shared between messages.
    """

    cache = None  # {(name, raw value): header object}, given per message

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        key = (name, value)
        if key not in self.cache:
            self.cache[key] = super().header_fetch_parse(name, value)
        return self.cache[key]


class AutomaticKind:
    """Why a message needs no answer (values stored in InboundMessage.automatic_kind)."""

    AUTO_REPLY = "auto_reply"
    DELIVERY_FAILURE = "delivery_failure"
    READ_RECEIPT = "read_receipt"
    BULK = "bulk"


class MalformedEmail(Exception):
    """The message cannot be read safely; `reason` is shown to the direction as is."""

    def __init__(self, reason: str):
        reason = pg_text(reason)  # it may quote the message (a charset's name, a header)
        super().__init__(reason)
        self.reason = reason


@dataclass
class Attachment:
    filename: str
    content_type: str  # as declared by the sender; the GED sniffs the bytes itself
    data: bytes
    refused_reason: str = ""  # set when the attachment is damaged before the GED sees it


@dataclass
class ParsedEmail:
    message_id: str
    from_address: str
    from_name: str
    subject: str
    date: datetime | None
    in_reply_to: list[str]
    references: list[str]
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    automatic_kind: str = ""
    # Message-IDs quoted by a delivery report or read receipt: the message it is about.
    reported_message_ids: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this one answers, the closest first."""
        ids = [*self.in_reply_to, *reversed(self.references), *self.reported_message_ids]
        return list(dict.fromkeys(ids))


# The standard library's parser nests one generator per level of multipart: near 1,000 levels it
# fails with RecursionError, and the half-run generators it leaves behind fail again when they are
# collected (unraisable errors, at any later moment). Far beyond any real message (the setting
# MAILBOX_MAX_DEPTH, checked exactly on the parsed tree, is 12 by default), far below that limit,
# such a structure is refused from the raw bytes, before the parser sees it.
PARSER_SAFE_DEPTH = 500
_BOUNDARY = re.compile(rb'boundary\s*=\s*"?([^";\s]+)', re.IGNORECASE)


def _nested_beyond_parser(raw: bytes) -> bool:
    """Whether the multiparts of `raw` nest deeper than PARSER_SAFE_DEPTH (a linear scan)."""
    if raw.lower().count(b"boundary") <= PARSER_SAFE_DEPTH:
        return False  # each level declares a boundary: no more levels than declarations
    open_boundaries: list[bytes] = []
    for line in raw.splitlines():
        if line.startswith(b"--") and open_boundaries:
            closing = line.rstrip()
            for level in range(len(open_boundaries) - 1, -1, -1):
                if closing == b"--" + open_boundaries[level] + b"--":
                    del open_boundaries[level:]  # a closed level closes those inside it
                    break
        open_boundaries += _BOUNDARY.findall(line)
        if len(open_boundaries) > PARSER_SAFE_DEPTH:
            return True
    return False


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse `raw`; MalformedEmail when it breaks a limit or cannot be read faithfully."""
    if _nested_beyond_parser(raw):
        raise MalformedEmail(_("The MIME structure is nested too deeply."))
    try:
        message = email.message_from_bytes(raw, policy=_ParseOncePolicy(cache={}))
        parts = _walk(message)
    except RecursionError:
        raise MalformedEmail(_("The MIME structure is nested too deeply.")) from None
    _check_defects(parts)
    try:
        headers = _headers(message)
    except MalformedEmail:
        raise
    except Exception as exc:  # the header parser has bugs of its own on garbage
        raise MalformedEmail(_("A header cannot be read: %(error)s") % {"error": exc}) from None
    body, attachments, reported = _contents(message, parts)
    return _storable(
        ParsedEmail(
            **headers,
            body=body,
            attachments=attachments,
            automatic_kind=_automatic_kind(message, headers["from_address"], headers["subject"]),
            reported_message_ids=reported,
        )
    )


def pg_text(value: str) -> str:
    """`value` as PostgreSQL's text can hold it: NUL dropped, a lone surrogate made U+FFFD."""
    if not _PG_REFUSED.search(value):
        return value
    return _PG_REFUSED.sub(lambda match: "" if match.group() == "\x00" else "\ufffd", value)


def _storable(parsed: ParsedEmail) -> ParsedEmail:
    """Every text taken from the message, made storable (`pg_text`): one pass at the end, so
    that no field (header, body, file name, quoted Message-ID) is forgotten."""
    parsed.message_id = pg_text(parsed.message_id)
    parsed.from_address = pg_text(parsed.from_address)
    parsed.from_name = pg_text(parsed.from_name)
    parsed.subject = " ".join(pg_text(parsed.subject).split())
    parsed.body = pg_text(parsed.body)
    parsed.in_reply_to = [pg_text(value) for value in parsed.in_reply_to]
    parsed.references = [pg_text(value) for value in parsed.references]
    parsed.reported_message_ids = [pg_text(value) for value in parsed.reported_message_ids]
    for attachment in parsed.attachments:
        attachment.filename = pg_text(attachment.filename)
        attachment.content_type = pg_text(attachment.content_type)
        attachment.refused_reason = pg_text(attachment.refused_reason)
    return parsed


def normalize_message_id(value: str) -> str:
    match = _MESSAGE_ID.search(value or "")
    return match.group(0)[:255] if match else ""


def message_ids(value: str) -> list[str]:
    return [match[:255] for match in _MESSAGE_ID.findall(value or "")]


def _walk(message: EmailMessage) -> list[tuple[EmailMessage, bool]]:
    """Every part, each with whether it lies inside an enclosed message (a forward, a report).

    Iterative, so that nesting costs no stack; refuses more parts or deeper nesting than the
    settings allow (an absurd structure is how some attacks on mail parsers start).
    """
    max_parts = settings.MAILBOX_MAX_PARTS
    max_depth = settings.MAILBOX_MAX_DEPTH
    parts: list[tuple[EmailMessage, bool]] = []
    stack = [(message, 0, False)]
    while stack:
        part, depth, enclosed = stack.pop()
        if depth > max_depth:
            message = _("The MIME structure is nested more than %(max)s levels deep.")
            raise MalformedEmail(message % {"max": max_depth})
        parts.append((part, enclosed))
        if len(parts) > max_parts:
            raise MalformedEmail(_("The message has more than %(max)s parts.") % {"max": max_parts})
        if part.is_multipart():
            children = part.get_payload()
            inside = enclosed or part.get_content_maintype() == "message"
            if isinstance(children, list):
                stack.extend((child, depth + 1, inside) for child in reversed(children))
    return parts


def _check_defects(parts) -> None:
    for part, enclosed in parts:
        if enclosed:
            continue  # a forwarded message is filed whole, as it came: its defects are its own
        for defect in part.defects:
            if isinstance(defect, _FATAL_DEFECTS):
                raise MalformedEmail(
                    _("Broken MIME structure (%(defect)s).") % {"defect": type(defect).__name__}
                )


def _header(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    for defect in getattr(value, "defects", ()):
        if isinstance(defect, email.errors.CharsetError) or "charset" in str(defect).lower():
            raise MalformedEmail(
                _("The header %(name)s uses an unknown character set.") % {"name": name}
            )
    return str(value)


def _headers(message: EmailMessage) -> dict:
    from_value = _header(message, "From")
    addresses = [(name, address) for name, address in getaddresses([from_value]) if "@" in address]
    if not addresses:
        raise MalformedEmail(_("The message has no sender address (From header)."))
    name, address = addresses[0]
    date = None
    if raw_date := _header(message, "Date"):
        try:
            date = parsedate_to_datetime(raw_date)
        except (TypeError, ValueError, IndexError):
            date = None
        if date is not None and date.tzinfo is None:
            date = None  # "-0000": the zone is unknown, the server's INTERNALDATE is better
    subject = " ".join(_header(message, "Subject").split())
    return {
        "message_id": normalize_message_id(_header(message, "Message-ID")),
        "from_address": address.strip().lower()[:254],
        "from_name": name.strip()[:200],
        "subject": subject,
        "date": date,
        "in_reply_to": message_ids(_header(message, "In-Reply-To")),
        "references": message_ids(_header(message, "References")),
    }


def decode_text(part: EmailMessage) -> str:
    """The text of a text/* part in its declared charset; MalformedEmail if it is not."""
    payload = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "us-ascii").lower()
    if charset in _LATIN1_LABELS:
        charset = "windows-1252"
    try:
        return payload.decode(charset)
    except LookupError:
        raise MalformedEmail(
            _("The text is in an unknown character set “%(charset)s”.") % {"charset": charset[:40]}
        ) from None
    except UnicodeDecodeError:
        if charset == "windows-1252":
            return payload.decode("latin-1")  # the five bytes windows-1252 leaves undefined
        raise MalformedEmail(
            _("The text is not valid in its declared character set “%(charset)s”.")
            % {"charset": charset[:40]}
        ) from None


def _is_attachment(part: EmailMessage) -> bool:
    return part.get_content_disposition() == "attachment" or bool(part.get_filename())


def _contents(message: EmailMessage, parts) -> tuple[str, list[Attachment], list[str]]:
    """The body (plain text preferred, else HTML made readable), attachments, reported ids."""
    plain = html = None
    attachments: list[Attachment] = []
    reported: list[str] = []
    is_report = message.get_content_type() == "multipart/report"
    for part, enclosed in parts:
        if enclosed:
            continue  # kept whole with its enclosing message/rfc822 part
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if not isinstance(inner, EmailMessage):
                continue
            if is_report:
                if reported_id := normalize_message_id(str(inner.get("Message-ID", ""))):
                    reported.append(reported_id)
            else:
                # A message forwarded as an attachment: filed whole, as an .eml.
                subject = "-".join(str(inner.get("Subject", "")).split())[:80]
                attachments.append(
                    Attachment(
                        filename=part.get_filename() or f"{subject or 'message'}.eml",
                        content_type="message/rfc822",
                        data=inner.as_bytes(policy=policy.SMTP),
                    )
                )
            continue
        if part.get_content_maintype() == "message" or content_type == "text/rfc822-headers":
            # message/delivery-status, message/disposition-notification, the returned headers.
            if is_report:
                reported += _reported_ids(part)
            continue
        if part.is_multipart():
            continue
        if content_type in ("application/ms-tnef", "application/vnd.ms-tnef") or (
            (_filename(part, 0)).lower() == "winmail.dat"
        ):
            attachments += _tnef_attachments(part, len(attachments))
            continue
        inline_text = content_type.startswith("text/") and not _is_attachment(part)
        if inline_text and content_type == "text/plain":
            if plain is None:
                plain = decode_text(part)
            continue
        if inline_text and content_type == "text/html":
            if html is None:
                html = decode_text(part)
            continue
        if inline_text:
            continue  # an alternative we do not need (text/enriched, text/calendar…)
        attachments.append(_attachment(part, len(attachments)))
    body = plain if plain is not None and plain.strip() else (html_to_text(html) if html else "")
    return body.replace("\r\n", "\n").strip(), attachments, list(dict.fromkeys(reported))


def _reported_ids(part: EmailMessage) -> list[str]:
    """Message-IDs named by a delivery report or a read receipt."""
    wanted = ("original-message-id", "message-id")
    payload = part.get_payload()
    if isinstance(payload, list):  # header blocks, already parsed (folded lines joined)
        return [
            message_id
            for block in payload
            for name, value in block.items()
            if name.lower() in wanted
            for message_id in message_ids(str(value))
        ]
    text = (part.get_payload(decode=True) or b"").decode("ascii", errors="replace")
    text = re.sub(r"\r?\n[ \t]+", " ", text)  # unfold
    return [
        message_id
        for line in text.splitlines()
        if line.split(":", 1)[0].strip().lower() in wanted
        for message_id in message_ids(line)
    ]


def _filename(part: EmailMessage, index: int, default_ext: str = "") -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # a broken RFC 2231 parameter: a generic name, the bytes are kept
        name = ""
    name = " ".join(name.split())
    return name or _("attachment-%(number)s") % {"number": index + 1} + default_ext


def _attachment(part: EmailMessage, index: int) -> Attachment:
    data = part.get_payload(decode=True) or b""
    attachment = Attachment(
        filename=_filename(part, index), content_type=part.get_content_type(), data=data
    )
    if any(isinstance(defect, _DAMAGED_PAYLOAD_DEFECTS) for defect in part.defects):
        attachment.refused_reason = _("The attachment's encoding is damaged (base64).")
    return attachment


def _tnef_attachments(part: EmailMessage, index: int) -> list[Attachment]:
    """Outlook's winmail.dat: the files inside it, each through the GED's checks like any other."""
    from tnefparse import TNEF

    data = part.get_payload(decode=True) or b""
    try:
        tnef = TNEF(data, do_checksum=False)
        inner = [
            Attachment(
                filename=(attachment.long_filename() or attachment.name or "").strip()
                or _("attachment-%(number)s") % {"number": index + number + 1},
                content_type="application/octet-stream",
                data=attachment.data,
            )
            for number, attachment in enumerate(tnef.attachments)
            if attachment.data
        ]
    except Exception:
        return [
            Attachment(
                filename="winmail.dat",
                content_type="application/ms-tnef",
                data=data,
                refused_reason=_("The Outlook envelope (winmail.dat) cannot be opened."),
            )
        ]
    return inner


# Subjects only an automatic reply writes. A word a person may open a request with is not
# enough ("Absent lors de la visite du 12, merci de reprogrammer" asks for something): the
# headers (Auto-Submitted, X-Autoreply…) decide the other cases.
_AUTO_SUBJECT = re.compile(
    r"^\s*(r[ée]ponse automatique|automatic reply|auto(matic)?[- ]?reply|out of (the )?office"
    r"|absence du bureau|absente? du bureau|message d['’]absence|auto:)",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliverable|undelivered mail|non remis|delivery status notification"
    r"|mail delivery failed|returned mail|[ée]chec de (la )?(remise|distribution))",
    re.I,
)
_RECEIPT_SUBJECT = re.compile(r"^\s*(lu|read|accus[ée] de lecture|read receipt)\s*:", re.I)


def _automatic_kind(message: EmailMessage, from_address: str, subject: str) -> str:
    """Automatic replies, delivery failures, read receipts and bulk mail need no answer.

    RFC 3834 (Auto-Submitted), RFC 3464/8098 (multipart/report), then the headers and subjects
    that the usual mail servers and clients write when they do not follow the RFCs.
    """
    content_type = message.get_content_type()
    report_type = (message.get_param("report-type") or "").lower()
    if content_type == "multipart/report":
        if report_type == "disposition-notification":
            return AutomaticKind.READ_RECEIPT
        return AutomaticKind.DELIVERY_FAILURE
    local_part = from_address.split("@")[0]
    if local_part in ("mailer-daemon", "postmaster") or _BOUNCE_SUBJECT.match(subject):
        return AutomaticKind.DELIVERY_FAILURE
    if _RECEIPT_SUBJECT.match(subject):
        return AutomaticKind.READ_RECEIPT
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return AutomaticKind.AUTO_REPLY
    if any(
        name in message
        for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply-From")
    ):
        return AutomaticKind.AUTO_REPLY
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence == "auto_reply" or _AUTO_SUBJECT.match(subject):
        return AutomaticKind.AUTO_REPLY
    if precedence in ("bulk", "junk", "list") or "List-Unsubscribe" in message:
        # Mass mail, unless its sender is someone we know (see `routing.automatic_kind`).
        return AutomaticKind.BULK
    return_path = str(message.get("Return-Path", "")).strip()
    if return_path == "<>":
        return AutomaticKind.DELIVERY_FAILURE
    return ""
