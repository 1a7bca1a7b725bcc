"""Demo client base for `manage.py seed_demo` (after the demo users of accounts). Idempotent."""

import datetime
import io

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from contacts import services
from contacts.models import ApprovalState, Client, Dossier, Intervenant, Mandate

CLIENTS = [
    # reference, name, kind, email, phone, address
    (
        "CLI-0001",
        "SCI Les Flamboyants",
        Client.Kind.LANDLORD,
        "contact@sci-flamboyants.example",
        "0596 61 23 45",
        "12 rue Victor Schœlcher\n97200 Fort-de-France",
    ),
    (
        "CLI-0002",
        "Josiane Céleste",
        Client.Kind.OWNER,
        "josiane.celeste@example.fr",
        "0696 45 78 12",
        "8 chemin de la Trace\n97234 Fort-de-France",
    ),
    (
        "CLI-0003",
        "Syndicat des copropriétaires Résidence Bellevue",
        Client.Kind.CO_OWNERSHIP,
        "syndic.bellevue@example.fr",
        "01 42 68 53 00",
        "45 avenue de la République\n75011 Paris",
    ),
    (
        "CLI-0004",
        "Karim Benali",
        Client.Kind.TENANT,
        "karim.benali@example.fr",
        "+33 6 12 34 56 78",
        "3 allée des Lilas\n69003 Lyon",
    ),
]

DOSSIERS = [
    # client reference, label, property address, postal code, city
    (
        "CLI-0001",
        "Gestion locative — immeuble",
        "12 rue Victor Schœlcher",
        "97200",
        "Fort-de-France",
    ),
    ("CLI-0002", "Villa Céleste", "8 chemin de la Trace", "97234", "Fort-de-France"),
    ("CLI-0003", "Copropriété Bellevue", "45 avenue de la République", "75011", "Paris"),
    ("CLI-0004", "Appartement T3 — 2e étage", "3 allée des Lilas", "69003", "Lyon"),
]

INTERVENANTS = [
    # reference, name, kind, category, email, phone, siret
    (
        "INT-0001",
        "Maître Hélène Rivière",
        "bailiff",
        "",
        "etude.riviere@example.fr",
        "0596 70 11 22",
        "",
    ),
    (
        "INT-0002",
        "Cabinet Lemoine Avocats",
        "lawyer",
        "",
        "contact@lemoine-avocats.example",
        "01 45 22 33 44",
        "",
    ),
    (
        "INT-0003",
        "Office notarial du Lamentin",
        "notary",
        "",
        "office@notaires-lamentin.example",
        "0596 51 00 10",
        "",
    ),
    (
        "INT-0004",
        "Assurances Caraïbes Protection",
        "insurer",
        "",
        "sinistres@acp-assurances.example",
        "0590 82 00 00",
        "",
    ),
    (
        "INT-0005",
        "Plomberie Martin & Fils",
        "artisan",
        "",
        "devis@plomberie-martin.example",
        "0696 22 33 44",
        "10087109400015",
    ),
    (
        "INT-0006",
        "Électricité Antilles Services",
        "artisan",
        "",
        "contact@eas-elec.example",
        "0696 55 66 77",
        "10182137900019",
    ),
    (
        "INT-0007",
        "Agence immobilière du Carbet",
        "fellow_agency",
        "commercial",
        "bonjour@agence-carbet.example",
        "0596 78 90 12",
        "",
    ),
    (
        "INT-0008",
        "Expertises Bâtiment Sud",
        "expert",
        "",
        "expertise@ebs.example",
        "0262 41 52 63",
        "10293003900015",
    ),
]

MANDATES = [
    # intervenant, client, direction, valid from, valid until, scope, with a proof
    (
        "INT-0002",
        "CLI-0001",
        Mandate.Direction.BY,
        datetime.date(2025, 1, 1),
        None,
        "Contentieux locatif de l'immeuble",
        True,
    ),
    (
        "INT-0004",
        "CLI-0003",
        Mandate.Direction.FOR,
        datetime.date(2025, 6, 1),
        None,
        "Sinistre dégât des eaux, bâtiment B",
        False,
    ),
    (
        "INT-0001",
        "CLI-0004",
        Mandate.Direction.FOR,
        datetime.date(2024, 3, 1),
        datetime.date(2024, 12, 31),
        "Recouvrement des loyers 2024",
        True,
    ),
]


def _proof_pdf(title: str) -> ContentFile:
    """A one-page PDF standing for the scanned, signed mandate."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return ContentFile(buffer.getvalue(), name="mandat-signe.pdf")


def seed(stdout) -> None:
    User = get_user_model()
    gestionnaire = User.objects.get(username="gestionnaire")
    direction = User.objects.get(username="direction")

    clients = {}
    for reference, name, kind, email, phone, address in CLIENTS:
        fields = {"name": name, "kind": kind, "email": email, "phone": phone, "address": address}
        client = Client.objects.filter(reference=reference).first()
        if client is None:
            client = services.client_create(reference=reference, **fields)
        else:
            client = services.client_update(client=client, active=True, **fields)
        clients[reference] = client

    for client_reference, label, address, postal_code, city in DOSSIERS:
        client = clients[client_reference]
        if not Dossier.objects.filter(client=client, property_address=address).exists():
            services.dossier_create(
                client=client,
                property_address=address,
                gestionnaire=gestionnaire,
                label=label,
                postal_code=postal_code,
                city=city,
            )

    intervenants = {}
    for reference, name, kind, category, email, phone, siret in INTERVENANTS:
        fields = {"name": name, "kind": kind, "email": email, "phone": phone, "siret": siret}
        if category:
            fields["category"] = category
        intervenant = Intervenant.objects.filter(reference=reference).first()
        if intervenant is None:
            intervenant = services.intervenant_create(reference=reference, **fields)
        else:
            intervenant = services.intervenant_update(intervenant=intervenant, **fields)
        intervenants[reference] = intervenant

    # R3: one artisan awaiting the direction's approval, one already approved.
    pending, approved = intervenants["INT-0005"], intervenants["INT-0006"]
    if pending.approval_state == ApprovalState.NOT_PROPOSED:
        services.artisan_propose(intervenant=pending, by=gestionnaire)
    if approved.approval_state == ApprovalState.NOT_PROPOSED:
        services.artisan_propose(intervenant=approved, by=gestionnaire)
    if not approved.approved_at:
        services.artisan_approve(intervenant=approved, by=direction)

    for intervenant_ref, client_ref, direction_, start, end, scope, with_proof in MANDATES:
        intervenant, client = intervenants[intervenant_ref], clients[client_ref]
        mandate = Mandate.objects.filter(
            intervenant=intervenant, client=client, direction=direction_
        ).first()
        if mandate is None:
            mandate = services.mandate_create(
                intervenant=intervenant,
                client=client,
                direction=direction_,
                valid_from=start,
                valid_until=end,
                scope=scope,
                by=gestionnaire,
            )
        if with_proof and mandate.proof_id is None:
            services.mandate_attach_proof(
                mandate=mandate, file=_proof_pdf(f"Mandat — {client.name}"), by=gestionnaire
            )

    stdout.write(
        f"  client base: {len(clients)} clients, {Dossier.objects.count()} dossiers, "
        f"{len(intervenants)} intervenants (one artisan awaiting approval), "
        f"{Mandate.objects.count()} mandates"
    )
