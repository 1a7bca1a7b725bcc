"""Tell a file's type from its first bytes, never from its name or what the browser claims.

Pure Python on purpose: `make run` must work on a fresh machine without libmagic. Only the types
the GED accepts are recognised (settings.GED_KNOWN_CONTENT_TYPES lists the same five); HTML and SVG
are recognised too, so that they can be refused with a message of their own.
"""

import re

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"
EMAIL = "message/rfc822"
MARKUP = "text/html"  # HTML or SVG: never accepted, a browser would run their scripts

KNOWN_TYPES = (PDF, JPEG, PNG, TIFF, EMAIL)

# How many bytes sniffing needs: an email's header block (long Received chains included).
HEAD_SIZE = 64 * 1024

_SIGNATURES = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
)

# The extension each type goes by: the stored key gets it, and a file whose name claims
# one of these types must contain it.
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", TIFF: ".tif", EMAIL: ".eml"}
TYPES_BY_EXTENSION = {
    ".pdf": PDF,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".jpe": JPEG,
    ".png": PNG,
    ".tif": TIFF,
    ".tiff": TIFF,
    ".eml": EMAIL,
    ".htm": MARKUP,
    ".html": MARKUP,
    ".xhtml": MARKUP,
    ".svg": MARKUP,
}

# RFC 5322 field: printable ASCII except ":" and space, then ":".
_HEADER_FIELD = re.compile(rb"^([!-9;-~]+)[ \t]*:")
_MARKUP_START = re.compile(rb"^\s*<")
_MARKUP_TAG = re.compile(rb"<\s*(!doctype\s+html|html|head|body|script|svg|iframe|\?xml)\b", re.I)
# An email is a header block with these: From, and at least one of the others.
_EMAIL_MARKERS = {b"date", b"subject", b"message-id", b"received", b"mime-version", b"to"}


def sniff(head: bytes) -> str | None:
    """The type of a file starting with `head` (its first HEAD_SIZE bytes), or None."""
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    text = head.removeprefix(b"\xef\xbb\xbf")
    if _MARKUP_START.match(text):
        return MARKUP
    # An email may carry HTML in its body; it is only ever downloaded, never displayed.
    if _looks_like_email(text):
        return EMAIL
    if _MARKUP_TAG.search(text[:1024]):
        return MARKUP
    return None


def _looks_like_email(head: bytes) -> bool:
    lines = head.splitlines()
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]  # an mbox envelope line, as some mail clients save it
    fields = set()
    for line in lines:
        if not line.strip():
            # The blank line ends the header block.
            return b"from" in fields and bool(fields & _EMAIL_MARKERS)
        if line[:1] in (b" ", b"\t"):
            if not fields:
                return False
            continue  # a folded header line
        match = _HEADER_FIELD.match(line)
        if match is None:
            return False
        fields.add(match.group(1).lower())
    return False  # no end to the header block within HEAD_SIZE: not an email
