"""A corpus of realistic French emails, and of malformed ones, as the raw bytes a server keeps.

Built here rather than stored as files so that each test can give them its own addresses,
references and Message-IDs. Encodings as real mail clients write them: UTF-8 quoted-printable
(Thunderbird, Gmail), ISO-8859-1 8bit (old webmails), windows-1252 (Outlook), RFC 2047 subjects,
RFC 2231 file names, Outlook's winmail.dat, forwards, delivery reports, read receipts.
"""

import email
import struct
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from io import BytesIO

from django.utils import timezone
from reportlab.pdfgen import canvas

AGENCY = "gestion@agence.test"


def pdf_bytes(text: str = "Document") -> bytes:
    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def _date(at=None) -> str:
    return format_datetime(at or timezone.now())


def message_id(tag: str = "exemple.fr") -> str:
    return make_msgid(domain=tag)


def plain(
    *,
    sender: str,
    subject: str,
    body: str,
    msgid: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    headers: dict | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
    name: str = "",
) -> bytes:
    """A UTF-8 message as Thunderbird writes it, with optional attachments (name, type, bytes)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = f"{name} <{sender}>" if name else sender
    message["To"] = AGENCY
    message["Subject"] = subject
    message["Date"] = _date()
    message["Message-ID"] = msgid or message_id()
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(body, cte="quoted-printable")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def notary_with_pdf(*, sender: str, reference: str, msgid: str | None = None) -> bytes:
    return plain(
        sender=sender,
        name="Étude de Maître Lefèvre",
        subject=f"Succession Dupont – acte de notoriété ({reference})",
        body=(
            "Madame,\n\nVeuillez trouver ci-joint l'acte de notoriété relatif à la succession de "
            "M. Dupont.\nMerci de nous indiquer le montant des loyers encaissés depuis le décès "
            "et de nous transmettre le dernier état des charges.\n\nBien cordialement,\n"
            "L'étude"
        ),
        msgid=msgid,
        attachments=[("acte de notoriété.pdf", "application/pdf", pdf_bytes("Acte"))],
    )


def latin1(*, sender: str, subject_words: str = "Réclamation chauffage") -> bytes:
    """ISO-8859-1, 8bit body, RFC 2047 Q-encoded subject (an old webmail)."""
    subject = (
        "=?ISO-8859-1?Q?"
        + "".join(
            f"={b:02X}" if b > 127 or chr(b) in "?=_ " else chr(b)
            for b in subject_words.encode("latin-1")
        ).replace("=20", "_")
        + "?="
    )
    body = (
        "Madame, Monsieur,\r\n\r\nLe chauffage de l'appartement ne fonctionne plus depuis "
        "trois jours ; la température atteint à peine 14 °C.\r\nPourriez-vous mandater un "
        "chauffagiste au plus vite ?\r\n\r\nSalutations distinguées.\r\n"
    ).encode("latin-1")
    return (
        f"From: {sender}\r\nTo: {AGENCY}\r\nSubject: {subject}\r\nDate: {_date()}\r\n"
        f"Message-ID: {message_id()}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode("ascii") + body


def outlook_cp1252(*, sender: str, declared: str = "windows-1252") -> bytes:
    """Outlook: windows-1252 with €, œ and typographic quotes, sometimes labelled ISO-8859-1."""
    body = (
        "Bonjour,\r\n\r\nSuite à l’état des lieux, je conteste la retenue de 350 € sur le "
        "dépôt de garantie : les œillets des rideaux étaient déjà abîmés.\r\n\r\nCordialement\r\n"
    ).encode("windows-1252")
    return (
        f"From: =?windows-1252?Q?Am=E9lie_C=9Cur?= <{sender}>\r\nTo: {AGENCY}\r\n"
        f"Subject: =?windows-1252?B?{_b64('Dépôt de garantie – contestation')}?=\r\n"
        f"Date: {_date()}\r\nMessage-ID: {message_id('outlook.fr')}\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: text/plain; charset="{declared}"\r\n'
        "Content-Transfer-Encoding: 8bit\r\nX-Mailer: Microsoft Outlook 16.0\r\n\r\n"
    ).encode("ascii") + body


def _b64(text: str, charset: str = "windows-1252") -> str:
    import base64

    return base64.b64encode(text.encode(charset)).decode("ascii")


def html_only(*, sender: str) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = AGENCY
    message["Subject"] = "Demande d'attestation de loyer"
    message["Date"] = _date()
    message["Message-ID"] = message_id()
    message.set_content(
        "<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
        "<p>Bonjour,</p><p>Pourriez-vous m&rsquo;envoyer une <b>attestation de loyer</b> "
        "pour la CAF&nbsp;?</p><ul><li>Période : janvier à juin</li><li>Logement : "
        "12 rue Victor Hugo</li></ul><p>Voir <a href='https://www.caf.fr/'>le site</a>.</p>"
        "<table><tr><td>Loyer</td><td>650 €</td></tr></table></body></html>",
        subtype="html",
        cte="quoted-printable",
    )
    return message.as_bytes()


def rfc2231_filename(*, sender: str) -> bytes:
    """An attachment whose name is RFC 2231-encoded (UTF-8, percent-escaped)."""
    pdf = pdf_bytes("Devis")
    import base64

    return (
        (
            f"From: {sender}\r\nTo: {AGENCY}\r\nSubject: Devis =?UTF-8?Q?r=C3=A9novation?=\r\n"
            f"Date: {_date()}\r\nMessage-ID: {message_id()}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="sep"\r\n\r\n'
            "--sep\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
        ).encode()
        + "Voici le devis demandé.\r\n".encode()
        + (
            b"--sep\r\nContent-Type: application/pdf\r\n"
            b"Content-Disposition: attachment;\r\n"
            b" filename*=UTF-8''devis%20r%C3%A9novation%20%C3%A9t%C3%A9.pdf\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n"
        )
        + base64.encodebytes(pdf).replace(b"\n", b"\r\n")
        + b"--sep--\r\n"
    )


def tnef(files: list[tuple[str, bytes]]) -> bytes:
    """A minimal winmail.dat (TNEF) holding `files`, as Outlook attaches it."""

    def attribute(level: int, ident: int, data: bytes) -> bytes:
        checksum = sum(data) & 0xFFFF
        return (
            struct.pack("<BHHI", level, ident & 0xFFFF, ident >> 16, len(data))
            + data
            + (struct.pack("<H", checksum))
        )

    blob = struct.pack("<IH", 0x223E9F78, 0x0001)
    blob += attribute(1, 0x00089006, struct.pack("<I", 0x00010000))
    blob += attribute(1, 0x00069007, struct.pack("<II", 1252, 0))
    blob += attribute(1, 0x00078008, b"IPM.Microsoft Mail.Note\x00")
    for name, data in files:
        blob += attribute(2, 0x00069002, b"\x01\x00" + b"\xff" * 12)
        blob += attribute(2, 0x00018010, name.encode("cp1252") + b"\x00")
        blob += attribute(2, 0x0006800F, data)
    return blob


def winmail(*, sender: str) -> bytes:
    return plain(
        sender=sender,
        subject="Facture intervention plomberie",
        body="Bonjour,\nCi-joint notre facture.\nCordialement",
        attachments=[
            ("winmail.dat", "application/ms-tnef", tnef([("facture-1042.pdf", pdf_bytes("F"))]))
        ],
    )


def forwarded(*, sender: str, original_sender: str = "locataire@exemple.fr") -> bytes:
    inner = plain(
        sender=original_sender,
        subject="Fuite d'eau au plafond",
        body="Bonjour, une fuite d'eau est apparue au plafond de la salle de bains.",
    )
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = AGENCY
    message["Subject"] = "TR: Fuite d'eau au plafond"
    message["Date"] = _date()
    message["Message-ID"] = message_id()
    message.set_content("Pour information, message de notre locataire ci-dessous.")
    message.add_attachment(email.message_from_bytes(inner, policy=SMTP))
    return message.as_bytes()


def docx_attachment(*, sender: str) -> bytes:
    return plain(
        sender=sender,
        subject="Compte rendu d'assemblée générale",
        body="Bonjour, voici le compte rendu au format Word.",
        attachments=[
            (
                "compte-rendu.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                b"PK\x03\x04" + b"\x00" * 200,
            ),
            ("plan.pdf", "application/pdf", pdf_bytes("Plan")),
        ],
    )


def out_of_office(*, sender: str, in_reply_to: str = "") -> bytes:
    return plain(
        sender=sender,
        subject="Réponse automatique : Votre dossier",
        body="Je suis absente jusqu'au 2 décembre. Pour toute urgence, contactez l'étude.",
        in_reply_to=in_reply_to,
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )


def delivery_failure(*, original_msgid: str, recipient: str = "inconnu@exemple.fr") -> bytes:
    """A bounce (RFC 3464) of one of our replies, quoting its headers."""
    boundary = "dsn-boundary"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@agence.test>\r\n"
        f"To: {AGENCY}\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: {_date()}\r\n"
        f"Message-ID: {message_id('agence.test')}\r\nAuto-Submitted: auto-replied\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n"
        f' boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Votre message n'a pas pu être remis à {recipient}.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; agence.test\r\n\r\nFinal-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {AGENCY}\r\nTo: {recipient}\r\nSubject: Votre dossier\r\n"
        f"Message-ID: {original_msgid}\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def read_receipt(*, sender: str, original_msgid: str) -> bytes:
    boundary = "mdn"
    return (
        f"From: {sender}\r\nTo: {AGENCY}\r\nSubject: Lu : Votre dossier\r\nDate: {_date()}\r\n"
        f"Message-ID: {message_id()}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=disposition-notification;\r\n"
        f' boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Votre message a été lu.\r\n"
        f"--{boundary}\r\nContent-Type: message/disposition-notification\r\n\r\n"
        f"Final-Recipient: rfc822; {sender}\r\nOriginal-Message-ID: {original_msgid}\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()


# --- Malformed --------------------------------------------------------------------------------


def no_sender() -> bytes:
    return (
        f"To: {AGENCY}\r\nSubject: Sans expéditeur\r\nDate: {_date()}\r\n"
        f"Message-ID: {message_id()}\r\n\r\nBonjour\r\n"
    ).encode()


def unknown_charset(*, sender: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: {AGENCY}\r\nSubject: Charset inconnu\r\nDate: {_date()}\r\n"
        f"Message-ID: {message_id()}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=x-mac-klingon\r\nContent-Transfer-Encoding: 8bit\r\n"
        "\r\n"
    ).encode() + b"Bonjour \xe9\xe8\r\n"


def invalid_utf8(*, sender: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: {AGENCY}\r\nSubject: UTF-8 invalide\r\nDate: {_date()}\r\n"
        f"Message-ID: {message_id()}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + b"Le d\xe9p\xf4t de garantie\r\n"


def truncated_mime(*, sender: str) -> bytes:
    """A multipart cut in the middle: no closing boundary (a transfer that died)."""
    return (
        f"From: {sender}\r\nTo: {AGENCY}\r\nSubject: Message tronqué\r\nDate: {_date()}\r\n"
        f"Message-ID: {message_id()}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="cut"\r\n\r\n'
        "--cut\r\nContent-Type: text/plain\r\n\r\nDébut du message\r\n"
        "--cut\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "JVBERi0xLjQK\r\n"
    ).encode()


def multipart_without_boundary(*, sender: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: {AGENCY}\r\nSubject: Sans frontière\r\nDate: {_date()}\r\n"
        f"Message-ID: {message_id()}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed\r\n\r\nDu texte sans structure\r\n"
    ).encode()


def nested(*, sender: str, depth: int) -> bytes:
    head = (
        f"From: {sender}\r\nTo: {AGENCY}\r\nSubject: Imbrication\r\nDate: {_date()}\r\n"
        f"Message-ID: {message_id()}\r\nMIME-Version: 1.0\r\n"
    )
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'
        for level in range(depth)
    )
    closing = "".join(f"\r\n--b{level}--\r\n" for level in reversed(range(depth)))
    return (head + opening + "Content-Type: text/plain\r\n\r\nfond" + closing).encode()


def many_parts(*, sender: str, count: int) -> bytes:
    head = (
        f"From: {sender}\r\nTo: {AGENCY}\r\nSubject: Mille pièces\r\nDate: {_date()}\r\n"
        f"Message-ID: {message_id()}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="p"\r\n\r\n'
    )
    parts = "".join(f"--p\r\nContent-Type: text/plain\r\n\r\npart {n}\r\n" for n in range(count))
    return (head + parts + "--p--\r\n").encode()


def nul_characters(*, sender: str, subject: str = "Demande") -> bytes:
    """NUL characters everywhere an encoding lets them in (no raw NUL byte: IMAP refuses those):
    quoted-printable "=00" in the body, RFC 2047 encoded words in the subject and the sender's
    name, an RFC 2231 file name. PostgreSQL's text cannot hold them."""
    import base64

    # Q encoding: letters and digits as they are, any other character as its UTF-8 bytes.
    encoded_subject = "".join(
        c if c.isascii() and c.isalnum() else "".join(f"={byte:02X}" for byte in c.encode())
        for c in subject
    )
    return (
        (
            f"From: =?utf-8?q?Jean=00_Martin?= <{sender}>\r\nTo: {AGENCY}\r\n"
            f"Subject: =?utf-8?q?{encoded_subject}=00?=\r\n"
            f"Date: {_date()}\r\nMessage-ID: {message_id()}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="sep"\r\n\r\n'
            "--sep\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            "Bonjour,=00 la chaudi=C3=A8re fuit encore.=00\r\n"
            "--sep\r\nContent-Type: application/pdf\r\n"
            "Content-Disposition: attachment; filename*=utf-8''devis%00.pdf\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode()
        + base64.encodebytes(pdf_bytes("Devis")).replace(b"\n", b"\r\n")
        + b"--sep--\r\n"
    )


def big(*, sender: str, size: int) -> bytes:
    return plain(sender=sender, subject="Très gros message", body="x" * size)
