"""The PDF of a letter reply (R5): the agency, the dossier references, the date, each point."""

from io import BytesIO
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer


def _paragraphs(text: str, style) -> list:
    return [Paragraph(escape(line) or "&nbsp;", style) for line in text.splitlines() or [""]]


def render_reply_pdf(reply) -> bytes:
    """Render `reply` (with its item, dossier and answers) as an A4 letter, in French."""
    item = reply.item
    dossier = item.dossier
    sender = item.sender
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["Normal"], fontSize=10.5, leading=14)
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=12)
    heading = ParagraphStyle("heading", parent=body, fontName="Helvetica-Bold")
    with translation.override("fr"):
        story = [Paragraph(escape(settings.AGENCY_NAME), styles["Title"])]
        if settings.AGENCY_ADDRESS:
            story += _paragraphs(settings.AGENCY_ADDRESS, small)
        story += [Spacer(1, 8 * mm), Paragraph(escape(str(sender)), heading)]
        story += [
            Spacer(1, 6 * mm),
            Paragraph(
                escape(_("On %(date)s") % {"date": formats.date_format(reply.dated, "j F Y")}), body
            ),
            Spacer(1, 4 * mm),
            Paragraph(
                escape(
                    _("Our reference: dossier %(reference)s")
                    % {"reference": reply.dossier_reference}
                ),
                heading,
            ),
            Paragraph(escape(_("Subject: %(subject)s") % {"subject": item.subject}), body),
            Paragraph(
                escape(
                    _("Your letter received on %(date)s")
                    % {"date": formats.date_format(item.received_at.astimezone(), "j F Y")}
                ),
                body,
            ),
        ]
        if dossier.full_address:
            story.append(
                Paragraph(
                    escape(_("Property: %(address)s") % {"address": dossier.full_address}), body
                )
            )
        if reply.registered:
            story.append(
                Paragraph(
                    escape(
                        _("Registered letter with acknowledgement of receipt no. %(number)s")
                        % {"number": reply.tracking_number}
                    ),
                    heading,
                )
            )
        story += [Spacer(1, 6 * mm), Paragraph(escape(_("Madam, Sir,")), body), Spacer(1, 3 * mm)]
        story.append(
            Paragraph(
                escape(_("Please find below our answer to each point of your request.")), body
            )
        )
        for answer in reply.answers.select_related("point").order_by("point__position"):
            story += [
                Spacer(1, 4 * mm),
                Paragraph(
                    escape(
                        _("Point %(number)s: %(text)s")
                        % {
                            "number": answer.point.position,
                            "text": answer.point.text,
                        }
                    ),
                    heading,
                ),
                *_paragraphs(answer.text, body),
            ]
        author = reply.created_by.get_full_name() or reply.created_by.get_username()
        story += [
            Spacer(1, 8 * mm),
            Paragraph(escape(_("Yours faithfully,")), body),
            Spacer(1, 4 * mm),
            Paragraph(escape(author), heading),
        ]
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{reply.dossier_reference} {reply.dated:%Y-%m-%d}",
        author=settings.AGENCY_NAME,
        # A fixed creation date makes the same reply render to the same bytes (de-duplication).
        invariant=True,
    )
    document.build(story)
    return buffer.getvalue()
