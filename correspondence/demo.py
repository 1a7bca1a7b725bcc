"""Demo correspondence for `manage.py seed_demo`: a few items at various points of their deadline.

Runs after the demo users and the demo client base; idempotent (an item is created once, keyed by
its subject).
"""

from datetime import timedelta
from io import BytesIO

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone
from reportlab.pdfgen import canvas

from contacts.models import Mandate
from contacts.selectors import mandate_check
from correspondence import services
from correspondence.models import Channel, IncomingItem, Kind

# subject, channel, kind, hours since reception, points, registered tracking number
ITEMS = [
    (
        "Succession — demande de pièces",
        Channel.LETTER,
        Kind.REQUEST,
        20,
        ["Copie du bail en cours", "Montant du dépôt de garantie"],
        "",
    ),
    (
        "Sinistre dégât des eaux — suite",
        Channel.EMAIL,
        Kind.REQUEST,
        40,
        ["Date de passage de l'expert", "Devis de remise en état"],
        "",
    ),
    (
        "Mise en demeure — loyers impayés",
        Channel.LETTER,
        Kind.REQUEST,
        80,
        ["Décompte des sommes dues", "Coordonnées du locataire"],
        "RR123456789FR",
    ),
    (
        "Remise des clés à l'artisan",
        Channel.VISIT,
        Kind.ROUTINE,
        2,
        ["Confirmer la remise des clés"],
        "",
    ),
]


def _pdf(text: str) -> ContentFile:
    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return ContentFile(buffer.getvalue(), name="courrier-scanne.pdf")


def _mandated_pair():
    """A dossier and an intervenant duly mandated for its client, from the demo client base."""
    now = timezone.now()
    for mandate in Mandate.objects.select_related("intervenant", "client").order_by("pk"):
        dossier = mandate.client.dossiers.order_by("pk").first()
        if (
            dossier
            and mandate_check(intervenant=mandate.intervenant, client=mandate.client, at=now).ok
        ):
            return dossier, mandate.intervenant
    return None, None


def seed(stdout) -> None:
    gestionnaire = get_user_model().objects.filter(username="gestionnaire").first()
    dossier, intervenant = _mandated_pair()
    if gestionnaire is None or dossier is None:
        stdout.write(
            "  correspondence: no mandated intervenant in the demo client base, nothing added"
        )
        return
    now = timezone.now()
    created = 0
    for subject, channel, kind, hours, points, tracking_number in ITEMS:
        if IncomingItem.objects.filter(subject=subject).exists():
            continue
        services.item_register(
            channel=channel,
            kind=kind,
            received_at=now - timedelta(hours=hours),
            sender=intervenant,
            dossier=dossier,
            subject=subject,
            points=points,
            assigned_to=gestionnaire,
            by=gestionnaire,
            registered=bool(tracking_number),
            tracking_number=tracking_number,
            originals=[_pdf(subject)] if channel == Channel.LETTER else [],
        )
        created += 1
    stdout.write(f"  correspondence: {created} demo items added for dossier {dossier.reference}")
