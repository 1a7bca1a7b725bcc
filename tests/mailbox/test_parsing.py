"""Reading the corpus: encodings, bodies, attachments, automatic messages, malformed messages."""

import pytest

from email_channel.config import parse_mailbox_url, parse_mailbox_urls
from email_channel.html_text import html_to_text
from email_channel.parsing import MalformedEmail, parse_email, pg_text
from tests.mailbox import corpus

SENDER = "expediteur@exemple.fr"


def test_it_reads_a_utf8_message_with_an_rfc2047_subject_and_a_pdf():
    parsed = parse_email(corpus.notary_with_pdf(sender=SENDER, reference="D-2026-00042"))

    assert parsed.subject == "Succession Dupont – acte de notoriété (D-2026-00042)"
    assert parsed.from_name == "Étude de Maître Lefèvre"
    assert parsed.from_address == SENDER
    assert "montant des loyers encaissés" in parsed.body
    assert [a.filename for a in parsed.attachments] == ["acte de notoriété.pdf"]
    assert parsed.attachments[0].data.startswith(b"%PDF-")
    assert parsed.message_id.startswith("<") and parsed.automatic_kind == ""


def test_it_reads_iso_8859_1_with_a_q_encoded_subject():
    parsed = parse_email(corpus.latin1(sender=SENDER))

    assert parsed.subject == "Réclamation chauffage"
    assert "température atteint à peine 14 °C" in parsed.body


@pytest.mark.parametrize("declared", ["windows-1252", "iso-8859-1"])
def test_it_reads_outlooks_windows_1252_even_when_labelled_latin1(declared):
    parsed = parse_email(corpus.outlook_cp1252(sender=SENDER, declared=declared))

    assert parsed.from_name == "Amélie Cœur"
    assert parsed.subject == "Dépôt de garantie – contestation"
    assert "retenue de 350 € sur le dépôt" in parsed.body
    assert "l’état des lieux" in parsed.body and "les œillets" in parsed.body


def test_it_turns_an_html_only_body_into_readable_text():
    parsed = parse_email(corpus.html_only(sender=SENDER))

    assert parsed.body.startswith("Bonjour,")
    assert "m’envoyer une attestation de loyer pour la CAF" in parsed.body
    assert "- Période : janvier à juin" in parsed.body
    assert "le site (https://www.caf.fr/)" in parsed.body
    assert "alert" not in parsed.body and "color" not in parsed.body
    assert "<" not in parsed.body


def test_html_to_text_keeps_lines_and_drops_markup():
    text = html_to_text("<div>Un<br>deux</div><p>trois &amp; quatre</p><pre>a\nb</pre>")

    assert text == "Un\ndeux\n\ntrois & quatre\n\na\nb"


def test_it_decodes_an_rfc2231_file_name():
    parsed = parse_email(corpus.rfc2231_filename(sender=SENDER))

    assert parsed.subject == "Devis rénovation"
    assert [a.filename for a in parsed.attachments] == ["devis rénovation été.pdf"]


def test_it_opens_outlooks_winmail_dat_and_keeps_the_files_inside():
    parsed = parse_email(corpus.winmail(sender=SENDER))

    assert [a.filename for a in parsed.attachments] == ["facture-1042.pdf"]
    assert parsed.attachments[0].data.startswith(b"%PDF-")


def test_it_lists_a_winmail_dat_it_cannot_open_as_refused():
    raw = corpus.plain(
        sender=SENDER,
        subject="Facture",
        body="Ci-joint",
        attachments=[("winmail.dat", "application/ms-tnef", b"not a tnef file at all")],
    )

    [attachment] = parse_email(raw).attachments

    assert attachment.filename == "winmail.dat"
    assert "winmail.dat" in attachment.refused_reason


def test_it_keeps_a_forwarded_message_whole_as_an_eml():
    parsed = parse_email(corpus.forwarded(sender=SENDER))

    assert parsed.subject == "TR: Fuite d'eau au plafond"
    [attachment] = parsed.attachments
    assert attachment.content_type == "message/rfc822"
    assert attachment.filename.endswith(".eml")
    assert b"Subject: Fuite d'eau au plafond" in attachment.data


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (corpus.out_of_office(sender=SENDER), "auto_reply"),
        (corpus.delivery_failure(original_msgid="<r1@gerance>"), "delivery_failure"),
        (corpus.read_receipt(sender=SENDER, original_msgid="<r2@gerance>"), "read_receipt"),
        (
            corpus.plain(
                sender=SENDER,
                subject="Lettre d'information",
                body="…",
                headers={"Precedence": "bulk"},
            ),
            "bulk",
        ),
        (
            corpus.plain(sender=SENDER, subject="Out of Office: absent", body="Je suis absent."),
            "auto_reply",
        ),
        (corpus.plain(sender=SENDER, subject="Votre dossier", body="Une demande."), ""),
    ],
    ids=["auto-submitted", "bounce", "read-receipt", "bulk", "subject-only", "a-person"],
)
def test_it_recognises_automatic_messages(raw, kind):
    assert parse_email(raw).automatic_kind == kind


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("Réponse automatique : Votre dossier", "auto_reply"),
        ("Reponse automatique: congés", "auto_reply"),
        ("Automatic reply: Votre dossier", "auto_reply"),
        ("Absence du bureau", "auto_reply"),
        ("Absente du bureau jusqu'au 2 janvier", "auto_reply"),
        ("Message d’absence", "auto_reply"),
        ("Auto: Votre dossier", "auto_reply"),
        ("Absent lors de la visite du 12, merci de reprogrammer", ""),
        ("Absente le 12 : merci de reprogrammer l'état des lieux", ""),
        ("Automobile garée devant le garage, merci d'intervenir", ""),
    ],
)
def test_only_an_unmistakable_subject_makes_an_automatic_reply(subject, kind):
    raw = corpus.plain(sender=SENDER, subject=subject, body="…")

    assert parse_email(raw).automatic_kind == kind


def test_a_report_names_the_message_it_is_about():
    bounce = parse_email(corpus.delivery_failure(original_msgid="<r1@gerance>"))
    receipt = parse_email(corpus.read_receipt(sender=SENDER, original_msgid="<r2@gerance>"))

    assert bounce.thread_ids == ["<r1@gerance>"]
    assert receipt.thread_ids == ["<r2@gerance>"]


def test_thread_ids_put_the_closest_reference_first():
    raw = corpus.plain(
        sender=SENDER,
        subject="RE: dossier",
        body="ok",
        in_reply_to="<c@x>",
        references="<a@x> <b@x> <c@x>",
    )

    assert parse_email(raw).thread_ids == ["<c@x>", "<b@x>", "<a@x>"]


def test_it_drops_the_nul_characters_postgresql_text_cannot_hold():
    parsed = parse_email(corpus.nul_characters(sender=SENDER))

    assert parsed.subject == "Demande"
    assert parsed.from_name == "Jean Martin"
    assert parsed.body == "Bonjour, la chaudière fuit encore."
    assert [a.filename for a in parsed.attachments] == ["devis.pdf"]
    texts = [
        parsed.message_id,
        parsed.from_address,
        *parsed.thread_ids,
        *(a.filename for a in parsed.attachments),
        *(a.content_type for a in parsed.attachments),
    ]
    assert not any("\x00" in text for text in texts)


def test_a_lone_surrogate_becomes_a_replacement_character():
    assert pg_text("caf\udce9\x00") == "caf\ufffd"
    assert pg_text("Réponse") == "Réponse"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (corpus.no_sender(), "pas d’adresse d’expéditeur"),
        (corpus.unknown_charset(sender=SENDER), "jeu de caractères inconnu"),
        (corpus.invalid_utf8(sender=SENDER), "pas valide dans le jeu de caractères déclaré"),
        (corpus.truncated_mime(sender=SENDER), "Structure MIME cassée"),
        (corpus.multipart_without_boundary(sender=SENDER), "Structure MIME cassée"),
        (corpus.nested(sender=SENDER, depth=40), "plus de 12 niveaux"),
        (corpus.nested(sender=SENDER, depth=3000), "imbriquée trop profondément"),
        (corpus.many_parts(sender=SENDER, count=3000), "plus de 200 parties"),
    ],
    ids=[
        "no-from",
        "unknown-charset",
        "invalid-utf8",
        "truncated",
        "no-boundary",
        "nesting",
        "absurd-nesting",
        "thousands-of-parts",
    ],
)
def test_it_refuses_malformed_messages_with_a_reason(raw, reason):
    with pytest.raises(MalformedEmail) as error:
        parse_email(raw)

    assert reason in error.value.reason


def test_an_absurd_nesting_never_reaches_the_standard_librarys_parser(monkeypatch):
    """Near 1,000 levels it recurses too deep, and its half-run generators fail again later."""
    from email_channel import parsing

    def parser(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(parsing.email, "message_from_bytes", parser)

    with pytest.raises(MalformedEmail, match="trop profondément"):
        parse_email(corpus.nested(sender=SENDER, depth=parsing.PARSER_SAFE_DEPTH + 1))


def test_many_sibling_multiparts_are_not_taken_for_nesting(settings):
    from email_channel import parsing

    settings.MAILBOX_MAX_PARTS = 5000
    siblings = "".join(
        f'--top\r\nContent-Type: multipart/alternative; boundary="s{n}"\r\n\r\n'
        f"--s{n}\r\nContent-Type: text/plain\r\n\r\nPartie {n}\r\n--s{n}--\r\n"
        for n in range(parsing.PARSER_SAFE_DEPTH + 50)
    )
    raw = (
        f"From: {SENDER}\r\nTo: agence@exemple.fr\r\nSubject: Pièces\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="top"\r\n\r\n' + siblings + "--top--\r\n"
    ).encode()

    assert not parsing._nested_beyond_parser(raw)
    assert parse_email(raw).from_address == SENDER


def test_the_limits_are_settings(settings):
    settings.MAILBOX_MAX_PARTS = 5000
    settings.MAILBOX_MAX_DEPTH = 50

    assert parse_email(corpus.many_parts(sender=SENDER, count=3000)).from_address == SENDER
    assert parse_email(corpus.nested(sender=SENDER, depth=40)).from_address == SENDER


def test_a_mailbox_url_gives_every_setting():
    config = parse_mailbox_url(
        "imaps://gestion%40agence.fr:p%40ss%2Cword@imap.agence.fr/Bo%C3%AEte?archive=Archiv%C3%A9s"
        "&sent=Sent&name=gestion"
    )

    assert (config.host, config.port, config.security) == ("imap.agence.fr", 993, "tls")
    assert (config.user, config.password) == ("gestion@agence.fr", "p@ss,word")
    assert (config.folder, config.archive_folder, config.sent_folder) == (
        "Boîte",
        "Archivés",
        "Sent",
    )
    assert config.name == "gestion"
    assert "p@ss" not in repr(config)


def test_mailbox_url_defaults():
    config = parse_mailbox_url("imap+starttls://u:p@mail.example")

    assert (config.port, config.security, config.folder, config.archive_folder) == (
        143,
        "starttls",
        "INBOX",
        "Archive",
    )
    assert config.sent_folder == "" and config.name == "u@mail.example"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("pop3://u:p@h", "unknown scheme"),
        ("imaps://h", "needs a user and a password"),
        ("imaps://u:p@h/INBOX?archive=INBOX", "must differ"),
        ("imaps://u:p@h/?folder=x", "unknown parameters"),
        ("imaps://u:p@h:99999", "bad port"),
    ],
)
def test_a_bad_mailbox_url_is_refused_with_a_reason(url, message):
    with pytest.raises(ValueError, match=message):
        parse_mailbox_url(url)


def test_two_mailboxes_need_distinct_names():
    with pytest.raises(ValueError, match="same name"):
        parse_mailbox_urls(["imaps://u:p@h/A", "imaps://u:p@h/B"])
    assert len(parse_mailbox_urls(["imaps://u:p@h/A?name=a", "imaps://u:p@h/B?name=b", ""])) == 2


def test_settings_fail_loudly_on_a_bad_mailbox_url():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **__import__("os").environ,
            "DJANGO_SETTINGS_MODULE": "gerance.settings",
            "MAILBOX_URLS": "pop3://u:p@h",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "MAILBOX_URLS: unknown scheme" in result.stderr
