"""R8 in the application: the alert list and the badge in the navigation."""

from datetime import timedelta

import pytest
import time_machine

from correspondence import alerts
from correspondence.models import Alert, IncomingItem, Status
from tests.correspondence.alerting import RECEIVED, make_items, register

pytestmark = pytest.mark.django_db

URL = "/courrier/alertes/"


def raise_alerts(moment):
    with time_machine.travel(moment, tick=False):
        return alerts.alerts_sweep().alert_ids


@pytest.fixture
def alerted(gestionnaire, other_gestionnaire, dossier, notary):
    """Claire's item overdue and escalated; Marc's item warned."""
    mine = register(gestionnaire=gestionnaire, dossier=dossier, sender=notary, subject="Bail")
    theirs = register(
        gestionnaire=other_gestionnaire,
        dossier=dossier,
        sender=notary,
        subject="Dépôt de garantie",
        received_at=RECEIVED + timedelta(days=2),
    )
    raise_alerts(RECEIVED + timedelta(days=3, hours=14))
    return mine, theirs


def test_a_gestionnaire_sees_only_their_own_alerts(as_user, gestionnaire, alerted):
    response = as_user(gestionnaire).get(URL)

    assert response.status_code == 200
    shown = list(response.context["page"])
    assert {alert.kind for alert in shown} == {"overdue"}
    assert "Bail" in response.content.decode()
    assert "Dépôt de garantie" not in response.content.decode()


def test_an_alert_links_its_item_its_sender_and_its_dossier(
    as_user, gestionnaire, alerted, notary, dossier
):
    page = as_user(gestionnaire).get(URL).content.decode()

    assert f'href="/courrier/{alerted[0].pk}/"' in page
    assert f'href="/contacts/intervenants/{notary.pk}/"' in page
    assert f'href="/courrier/dossier/{dossier.reference}/"' in page


def test_the_direction_sees_every_alert(as_user, direction, alerted):
    response = as_user(direction).get(URL)

    assert response.status_code == 200
    assert sorted(a.kind for a in response.context["page"]) == ["escalation", "overdue", "warning"]


def test_the_direction_sees_the_emails_refused_by_the_mail_server(as_user, direction, alerted):
    Alert.objects.filter(kind="overdue").update(email_error="550 5.1.1 Adresse inconnue")

    response = as_user(direction).get(URL + "?refused=1")

    [refused] = response.context["page"]
    assert refused.kind == "overdue"
    assert "Adresse inconnue" in response.content.decode()


def test_the_legal_service_sees_an_empty_list(as_user, legal, alerted):
    response = as_user(legal).get(URL)

    assert response.status_code == 200
    assert list(response.context["page"]) == []


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, alerted):
    response = client.get(URL)

    assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_the_list_answers_only_get(as_user, gestionnaire):
    assert as_user(gestionnaire).post(URL).status_code == 405


def test_the_badge_counts_the_alerts_on_items_still_open(as_user, gestionnaire, alerted):
    mine, _ = alerted
    client = as_user(gestionnaire)

    page = client.get("/courrier/").content.decode()
    assert 'id="alerts-badge"' in page
    assert '<span class="badge danger"' in page.split('id="alerts-badge"')[1].split("</a>")[0]

    IncomingItem.objects.filter(pk=mine.pk).update(
        answered_at=RECEIVED, status=Status.ANSWERED, original_filed_at=RECEIVED
    )
    assert alerts.badge_count(gestionnaire) == 0


def test_the_badge_of_the_direction_counts_escalations_and_refusals(direction, alerted):
    assert alerts.badge_count(direction) == 1  # the escalation of an item still open
    Alert.objects.filter(kind="warning").update(email_error="550 refused")

    assert alerts.badge_count(direction) == 2


@pytest.mark.parametrize("count", [2, 60])
def test_the_alert_list_needs_the_same_queries_whatever_the_number_of_alerts(
    count, as_user, direction, gestionnaire, dossier, notary, django_assert_max_num_queries
):
    make_items(count, gestionnaire=gestionnaire, dossier=dossier, sender=notary)
    raise_alerts(RECEIVED + timedelta(days=5))
    client = as_user(direction)

    # session, user, 2 × permissions, roles, count, badge, page
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200
