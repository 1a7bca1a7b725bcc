"""R3: an artisan is registered only once the direction has approved him."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from contacts import services
from contacts.models import ArtisanDecision, Intervenant
from tests.factories import ArtisanFactory, IntervenantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "may_propose", "may_decide"),
    [
        ("gestionnaire", True, False),
        ("direction", True, True),
        ("legal", False, False),
    ],
)
def test_it_lets_each_role_do_what_the_procedure_says(request, persona, may_propose, may_decide):
    user = request.getfixturevalue(persona)
    artisan = ArtisanFactory()

    if may_propose:
        services.artisan_propose(intervenant=artisan, by=user)
        assert artisan.approval_state == "pending"
    else:
        with pytest.raises(PermissionDenied):
            services.artisan_propose(intervenant=artisan, by=user)

    for decide, kwargs in [
        (services.artisan_refuse, {"reason": "Pas d’assurance décennale"}),
        (services.artisan_approve, {}),
    ]:
        fresh = ArtisanFactory()
        if may_decide:
            decide(intervenant=fresh, by=user, **kwargs)
        else:
            with pytest.raises(PermissionDenied, match="Seule la direction"):
                decide(intervenant=fresh, by=user, **kwargs)
            fresh.refresh_from_db()
            assert fresh.approval_state == "not_proposed"


def test_it_refuses_everything_to_a_user_without_role():
    user = UserFactory()
    artisan = ArtisanFactory()

    with pytest.raises(PermissionDenied):
        services.artisan_propose(intervenant=artisan, by=user)
    with pytest.raises(PermissionDenied):
        services.artisan_approve(intervenant=artisan, by=user)
    assert not ArtisanDecision.objects.exists()


def test_it_records_who_approved_when_and_tells_the_redmine_bridge_after_commit(
    gestionnaire, direction, received, django_capture_on_commit_callbacks
):
    artisan = ArtisanFactory(name="Plomberie Martin")
    services.artisan_propose(intervenant=artisan, by=gestionnaire)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.artisan_approve(intervenant=artisan, by=direction)
    assert received == []  # nothing is sent before the commit
    for callback in callbacks:
        callback()

    artisan.refresh_from_db()
    assert artisan.approval_state == "approved"
    assert artisan.approved_by == direction and artisan.approved_at is not None
    assert received == [artisan.pk]
    history = list(
        artisan.decisions.order_by("decided_at", "pk").values_list("decision", "decided_by")
    )
    assert history == [("proposed", gestionnaire.pk), ("approved", direction.pk)]


@pytest.mark.parametrize("kind", ["notary", "lawyer", "insurer", "advertising", "fellow_agency"])
def test_it_refuses_to_approve_a_non_technical_intervenant(direction, received, kind):
    intervenant = IntervenantFactory(kind=kind)

    with pytest.raises(ValidationError, match="Seul un intervenant technique"):
        services.artisan_approve(intervenant=intervenant, by=direction)

    intervenant.refresh_from_db()
    assert intervenant.approved_at is None
    assert not ArtisanDecision.objects.exists() and received == []


def test_it_holds_the_technical_rule_in_the_database(direction):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    notary = IntervenantFactory(kind="notary")

    with pytest.raises(IntegrityError), transaction.atomic():
        Intervenant.objects.filter(pk=notary.pk).update(
            approved_at=timezone.now(), approved_by=direction
        )


def test_it_refuses_to_approve_an_artisan_twice(
    direction, received, django_capture_on_commit_callbacks
):
    artisan = ArtisanFactory(name="Électricité Antilles")
    with django_capture_on_commit_callbacks(execute=True):
        services.artisan_approve(intervenant=artisan, by=direction)

    with pytest.raises(ValidationError, match="« Électricité Antilles » est déjà agréé"):
        services.artisan_approve(intervenant=artisan, by=direction)

    assert received == [artisan.pk]
    assert artisan.decisions.filter(decision="approved").count() == 1


def test_it_approves_once_when_two_directors_click_at_the_same_time(direction, received):
    """The second approval read a stale row: the claim (a conditional UPDATE) refuses it."""
    artisan = ArtisanFactory()
    stale = Intervenant.objects.get(pk=artisan.pk)
    other_director = UserFactory(roles=["Direction"])

    services.artisan_approve(intervenant=artisan, by=direction)
    with pytest.raises(ValidationError, match="déjà agréé"):
        services.artisan_approve(intervenant=stale, by=other_director)

    artisan.refresh_from_db()
    assert artisan.approved_by == direction
    assert artisan.decisions.filter(decision="approved").count() == 1


def test_it_refuses_with_a_reason_and_records_it(gestionnaire, direction, received):
    artisan = ArtisanFactory()
    services.artisan_propose(intervenant=artisan, by=gestionnaire)

    with pytest.raises(ValidationError) as excinfo:
        services.artisan_refuse(intervenant=artisan, by=direction, reason="   ")
    assert excinfo.value.message_dict == {"reason": ["Indiquez le motif du refus."]}

    services.artisan_refuse(intervenant=artisan, by=direction, reason="Pas de Kbis")

    artisan.refresh_from_db()
    assert artisan.approval_state == "refused"
    decision = artisan.decisions.get(decision="refused")
    assert (decision.decided_by, decision.reason) == (direction, "Pas de Kbis")
    assert received == []


def test_it_lets_a_refused_artisan_be_proposed_again(gestionnaire, direction):
    artisan = ArtisanFactory()
    services.artisan_refuse(intervenant=artisan, by=direction, reason="Dossier incomplet")

    services.artisan_propose(intervenant=artisan, by=gestionnaire)

    artisan.refresh_from_db()
    assert artisan.approval_state == "pending"
    with pytest.raises(ValidationError, match="attend déjà"):
        services.artisan_propose(intervenant=artisan, by=gestionnaire)


def test_it_refuses_to_refuse_an_approved_artisan(direction):
    artisan = ArtisanFactory()
    services.artisan_approve(intervenant=artisan, by=direction)

    with pytest.raises(ValidationError, match="déjà agréé"):
        services.artisan_refuse(intervenant=artisan, by=direction, reason="Revirement")

    artisan.refresh_from_db()
    assert artisan.approval_state == "approved"


def test_it_keeps_an_approved_artisan_technical(direction):
    artisan = ArtisanFactory()
    services.artisan_approve(intervenant=artisan, by=direction)

    with pytest.raises(ValidationError) as excinfo:
        services.intervenant_update(intervenant=artisan, kind="advertising")

    assert "reste dans la catégorie technique" in excinfo.value.message_dict["category"][0]


@pytest.mark.parametrize("decision", ["refused", "revoked"])
def test_it_requires_a_reason_for_every_refusal_in_the_database(direction, decision):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ArtisanDecision.objects.create(
            intervenant=ArtisanFactory(), decision=decision, decided_by=direction, reason=""
        )


def test_the_direction_revokes_an_approval_saying_why_and_the_bridge_hears_it_after_commit(
    gestionnaire, direction, withdrawn, django_capture_on_commit_callbacks
):
    from redmine_bridge.selectors import approved_artisans

    artisan = ArtisanFactory()
    services.artisan_approve(intervenant=artisan, by=direction)
    with pytest.raises(PermissionDenied, match="Seule la direction"):
        services.artisan_revoke(intervenant=artisan, by=gestionnaire, reason="Malfaçons")
    with pytest.raises(ValidationError) as excinfo:
        services.artisan_revoke(intervenant=artisan, by=direction, reason="  ")
    assert excinfo.value.message_dict == {"reason": ["Indiquez le motif de la révocation."]}

    with django_capture_on_commit_callbacks(execute=True):
        services.artisan_revoke(intervenant=artisan, by=direction, reason="Malfaçons répétées")

    artisan.refresh_from_db()
    assert (artisan.approval_state, artisan.approved_at, artisan.approved_by) == (
        "refused",
        None,
        None,
    )
    decision = artisan.decisions.get(decision="revoked")
    assert (decision.decided_by, decision.reason) == (direction, "Malfaçons répétées")
    assert withdrawn == [artisan.pk]
    assert artisan not in approved_artisans()  # R3: no more work requests for him
    with pytest.raises(ValidationError, match="n’est pas agréé"):
        services.artisan_revoke(intervenant=artisan, by=direction, reason="Encore")
    # He may be proposed and approved again.
    services.artisan_propose(intervenant=artisan, by=gestionnaire)
    services.artisan_approve(intervenant=artisan, by=direction)
    assert artisan in approved_artisans()


def test_a_refusal_is_heard_by_the_bridge_after_commit(
    direction, withdrawn, django_capture_on_commit_callbacks
):
    artisan = ArtisanFactory()

    with django_capture_on_commit_callbacks(execute=True):
        services.artisan_refuse(intervenant=artisan, by=direction, reason="Pas de Kbis")

    assert withdrawn == [artisan.pk]
