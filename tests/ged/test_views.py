"""The GED pages for each role: list, upload, document page, preview and download."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ged.models import Document
from ged.services import document_store
from tests.factories import UserFactory
from tests.ged.conftest import EMAIL, HTML, PNG, TIFF, pdf_bytes, upload

ROLES = ["gestionnaire", "other_gestionnaire", "direction", "legal"]


@pytest.fixture
def no_role(db):
    return UserFactory(username="stagiaire")


def owner_url(owner) -> str:
    return reverse("ged:owner", args=[ContentType.objects.get_for_model(owner).pk, owner.pk])


def upload_data(owner, *files, **extra) -> dict:
    return {
        "owner_type": ContentType.objects.get_for_model(owner).pk,
        "owner_id": owner.pk,
        "files": list(files),
        **extra,
    }


def add_document(owner, user, name="courrier.pdf", content=None, **kwargs) -> Document:
    content = pdf_bytes(text=name) if content is None else content
    return document_store(file=upload(name, content), owner=owner, added_by=user, **kwargs)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- The owner's documents -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_it_lists_an_owners_documents_to_every_role(request, as_user, owner, gestionnaire, role):
    add_document(owner, gestionnaire, "bail.pdf")

    response = as_user(request.getfixturevalue(role)).get(owner_url(owner))

    assert response.status_code == 200
    assert "bail.pdf" in response.text
    assert 'action="/documents/ajouter/"' in response.text


def test_it_refuses_the_list_to_a_user_without_a_role(as_user, owner, no_role):
    assert as_user(no_role).get(owner_url(owner)).status_code == 403


def test_it_sends_an_anonymous_visitor_to_the_login_page(client, owner):
    response = client.get(owner_url(owner))

    assert response.status_code == 302
    assert response.url.startswith("/connexion/")


def test_it_answers_404_for_an_unknown_owner(as_user, gestionnaire, owner):
    content_type = ContentType.objects.get_for_model(owner)
    client = as_user(gestionnaire)

    assert client.get(reverse("ged:owner", args=[content_type.pk, 999_999])).status_code == 404
    assert client.get(reverse("ged:owner", args=[999_999, owner.pk])).status_code == 404


def test_it_lists_current_versions_in_constant_queries(
    as_user, owner, gestionnaire, django_assert_max_num_queries
):
    client = as_user(gestionnaire)
    add_document(owner, gestionnaire, "un.pdf")
    client.get(owner_url(owner))  # warm the content-type cache
    with django_assert_max_num_queries(8) as few:
        client.get(owner_url(owner))

    for number in range(12):
        previous = add_document(owner, gestionnaire, f"doc-{number}.pdf")
        add_document(owner, gestionnaire, f"doc-{number}-v2.pdf", previous=previous)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(owner_url(owner))

    assert response.text.count("2 versions") == 12
    assert "doc-0-v2.pdf" in response.text
    assert ">doc-0.pdf<" not in response.text  # a replaced version is not listed on its own


def test_it_hides_the_upload_form_from_whom_the_owner_refuses(
    monkeypatch, as_user, owner, gestionnaire
):
    monkeypatch.setattr(
        get_user_model(), "ged_access_allowed", lambda self, user: True, raising=False
    )
    monkeypatch.setattr("ged.access.can_attach", lambda user, owner: False)

    response = as_user(gestionnaire).get(owner_url(owner))

    assert response.status_code == 200
    assert 'action="/documents/ajouter/"' not in response.text


# --- Upload ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_it_stores_several_files_posted_by_every_role(request, as_user, owner, role):
    user = request.getfixturevalue(role)

    response = as_user(user).post(
        reverse("ged:upload"),
        upload_data(owner, upload("scan.pdf", pdf_bytes()), upload("photo.png", PNG)),
    )

    assert response.status_code == 302
    assert response.url == owner_url(owner)
    documents = Document.objects.order_by("original_filename")
    assert [(d.original_filename, d.added_by, d.owner) for d in documents] == [
        ("photo.png", user, owner),
        ("scan.pdf", user, owner),
    ]


def test_it_refuses_uploads_from_a_user_without_a_role(as_user, owner, no_role, local_store):
    response = as_user(no_role).post(
        reverse("ged:upload"), upload_data(owner, upload("scan.pdf", pdf_bytes()))
    )

    assert response.status_code == 403
    assert Document.objects.count() == 0
    assert local_store.keys() == []


def test_it_refuses_uploads_to_a_record_that_takes_none(as_user, gestionnaire, local_store):
    """Only the models that say so take uploads: not an event of the append-only log."""
    from correspondence.models import Event
    from tests.factories import DossierFactory

    dossier = DossierFactory(gestionnaire=gestionnaire)
    event = Event.objects.create(
        dossier=dossier,
        label="Appel",
        text="Confirmé.",
        occurred_at=timezone.now(),
        recorded_by=gestionnaire,
    )
    client = as_user(gestionnaire)

    response = client.post(reverse("ged:upload"), upload_data(event, upload("a.pdf", pdf_bytes())))

    assert response.status_code == 404
    assert client.get(owner_url(event)).status_code == 404
    assert Document.objects.count() == 0
    assert local_store.keys() == []


def test_it_refuses_uploads_from_an_anonymous_visitor(client, owner, local_store):
    response = client.post(reverse("ged:upload"), upload_data(owner, upload("a.pdf", pdf_bytes())))

    assert response.status_code == 302
    assert response.url.startswith("/connexion/")
    assert Document.objects.count() == 0
    assert local_store.keys() == []


def test_it_answers_405_to_a_get_on_upload(as_user, gestionnaire):
    assert as_user(gestionnaire).get(reverse("ged:upload")).status_code == 405


def test_it_shows_each_refusal_in_french_and_keeps_the_good_files(as_user, owner, gestionnaire):
    response = as_user(gestionnaire).post(
        reverse("ged:upload"),
        upload_data(owner, upload("page.html", HTML), upload("bon.pdf", pdf_bytes())),
        follow=True,
    )

    messages = [str(message) for message in response.context["messages"]]
    assert messages == [
        "Le fichier « page.html » est une page web (HTML ou SVG) ; ces fichiers sont refusés "
        "car ils peuvent contenir des scripts.",
        "« bon.pdf » enregistré.",
    ]
    assert list(Document.objects.values_list("original_filename", flat=True)) == ["bon.pdf"]


def test_it_answers_json_to_the_upload_script(as_user, owner, gestionnaire):
    client = as_user(gestionnaire)
    url = reverse("ged:upload")

    stored = client.post(
        url,
        upload_data(owner, upload("scan.pdf", pdf_bytes()), next="/contacts/1/"),
        headers={"accept": "application/json"},
    )
    refused = client.post(
        url, upload_data(owner, upload("vide.pdf", b"")), headers={"accept": "application/json"}
    )

    document = Document.objects.get()
    assert stored.status_code == 200
    assert stored.json() == {
        "results": [
            {
                "name": "scan.pdf",
                "ok": True,
                "message": "« scan.pdf » enregistré.",
                "document": document.pk,
            }
        ],
        "redirect": "/contacts/1/",
    }
    assert refused.status_code == 400
    assert refused.json()["results"] == [
        {"name": "vide.pdf", "ok": False, "message": "Le fichier « vide.pdf » est vide."}
    ]


def test_it_says_when_identical_content_was_already_stored(as_user, owner, gestionnaire):
    client = as_user(gestionnaire)
    content = pdf_bytes()
    client.post(reverse("ged:upload"), upload_data(owner, upload("a.pdf", content)), follow=True)

    response = client.post(
        reverse("ged:upload"), upload_data(owner, upload("copie.pdf", content)), follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [
        "« a.pdf » était déjà enregistré pour ce dossier."
    ]
    assert Document.objects.count() == 1


def test_it_asks_for_a_file_when_none_is_posted(as_user, owner, gestionnaire):
    response = as_user(gestionnaire).post(reverse("ged:upload"), upload_data(owner), follow=True)

    assert [str(m) for m in response.context["messages"]] == ["Choisissez au moins un fichier."]


def test_it_never_redirects_to_another_site(as_user, owner, gestionnaire):
    response = as_user(gestionnaire).post(
        reverse("ged:upload"),
        upload_data(owner, upload("a.pdf", pdf_bytes()), next="https://evil.example/"),
    )

    assert response.url == owner_url(owner)


def test_it_refuses_an_upload_for_an_unknown_owner(as_user, owner, gestionnaire):
    data = upload_data(owner, upload("a.pdf", pdf_bytes()))
    data["owner_id"] = 999_999

    assert as_user(gestionnaire).post(reverse("ged:upload"), data).status_code == 404
    assert Document.objects.count() == 0


def test_it_stores_a_new_version_posted_from_the_document_page(as_user, owner, gestionnaire):
    first = add_document(owner, gestionnaire, "bail.pdf")

    response = as_user(gestionnaire).post(
        reverse("ged:upload"),
        upload_data(owner, upload("bail-signe.pdf", pdf_bytes(text="signé")), previous=first.pk),
        follow=True,
    )

    new = Document.objects.get(previous=first)
    assert new.original_filename == "bail-signe.pdf"
    assert [str(m) for m in response.context["messages"]] == [
        "« bail-signe.pdf » enregistré comme nouvelle version."
    ]


def test_it_refuses_a_new_version_of_another_owners_document(
    as_user, owner, other_owner, gestionnaire
):
    theirs = add_document(other_owner, gestionnaire, "autre.pdf")

    response = as_user(gestionnaire).post(
        reverse("ged:upload"),
        upload_data(owner, upload("v2.pdf", pdf_bytes()), previous=theirs.pk),
    )

    assert response.status_code == 404
    assert Document.objects.count() == 1


def test_it_refuses_two_files_as_one_new_version(as_user, owner, gestionnaire):
    first = add_document(owner, gestionnaire, "bail.pdf")

    response = as_user(gestionnaire).post(
        reverse("ged:upload"),
        upload_data(
            owner,
            upload("a.pdf", pdf_bytes(text="a")),
            upload("b.pdf", pdf_bytes(text="b")),
            previous=first.pk,
        ),
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Une nouvelle version se compose d’un seul fichier."
    ]
    assert Document.objects.count() == 1


def test_it_refuses_a_request_with_too_many_files(settings, as_user, owner, gestionnaire):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [upload(f"{n}.pdf", pdf_bytes(text=str(n))) for n in range(3)]

    response = as_user(gestionnaire).post(reverse("ged:upload"), upload_data(owner, *files))

    assert response.status_code == 400
    assert Document.objects.count() == 0


def csrf_client(user):
    """A client that, as a browser, must send the CSRF token (the test client skips the check)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(reverse("home"))  # any page with a form: sets the CSRF cookie
    return client


def test_it_sends_too_many_files_back_to_the_form_with_a_message(settings, owner, gestionnaire):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [upload(f"{n}.pdf", pdf_bytes(text=str(n))) for n in range(3)]
    client = csrf_client(gestionnaire)
    page = "http://testserver" + owner_url(owner)

    response = client.post(
        reverse("ged:upload"),
        upload_data(owner, *files, csrfmiddlewaretoken=client.cookies["csrftoken"].value),
        headers={"referer": page},
        follow=True,
    )

    assert response.redirect_chain == [(page, 302)]
    assert [str(m) for m in response.context["messages"]] == ["Au plus 2 fichiers à la fois."]
    assert Document.objects.count() == 0


def test_it_answers_too_many_files_in_json_to_the_script(settings, as_user, owner, gestionnaire):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    files = [upload(f"{n}.pdf", pdf_bytes(text=str(n))) for n in range(2)]

    response = as_user(gestionnaire).post(
        reverse("ged:upload"), upload_data(owner, *files), headers={"accept": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["results"][0]["message"] == "Au plus 1 fichier à la fois."
    assert Document.objects.count() == 0


def test_it_shows_the_french_400_page_for_too_many_files_from_elsewhere(
    settings, owner, gestionnaire
):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [upload(f"{n}.pdf", pdf_bytes(text=str(n))) for n in range(3)]

    response = csrf_client(gestionnaire).post(
        reverse("ged:upload"),
        upload_data(owner, *files),
        headers={"referer": "https://ailleurs.example/formulaire"},
    )

    assert response.status_code == 400
    assert "Requête incorrecte" in response.text
    assert "ailleurs.example" not in response.get("Location", "")
    assert Document.objects.count() == 0


def test_the_upload_still_checks_the_csrf_token(owner, gestionnaire):
    client = csrf_client(gestionnaire)
    data = upload_data(owner, upload("bail.pdf", pdf_bytes()))

    refused = client.post(reverse("ged:upload"), data)

    assert refused.status_code == 403
    assert Document.objects.count() == 0
    data = upload_data(
        owner,
        upload("bail.pdf", pdf_bytes()),
        csrfmiddlewaretoken=client.cookies["csrftoken"].value,
    )
    assert client.post(reverse("ged:upload"), data).status_code == 302
    assert Document.objects.count() == 1


# --- Document page, preview, download --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_it_shows_a_document_to_every_role(request, as_user, owner, gestionnaire, role):
    # The default rule: any member of the agency's staff, not only who added it.
    document = add_document(owner, gestionnaire, "bail.pdf")

    response = as_user(request.getfixturevalue(role)).get(reverse("ged:detail", args=[document.pk]))

    assert response.status_code == 200
    assert document.sha256 in response.text
    assert f'src="/documents/{document.pk}/apercu/"' in response.text


@pytest.mark.parametrize("view", ["ged:detail", "ged:preview", "ged:download"])
def test_it_refuses_a_document_to_a_user_without_a_role(
    as_user, owner, gestionnaire, no_role, view
):
    document = add_document(owner, gestionnaire)

    assert as_user(no_role).get(reverse(view, args=[document.pk])).status_code == 403


@pytest.mark.parametrize("view", ["ged:detail", "ged:preview", "ged:download"])
def test_it_never_gives_a_document_to_an_anonymous_visitor(client, owner, gestionnaire, view):
    document = add_document(owner, gestionnaire)

    response = client.get(reverse(view, args=[document.pk]))

    assert response.status_code == 302
    assert response.url.startswith("/connexion/")
    assert not response.streaming


@pytest.mark.parametrize("view", ["ged:detail", "ged:preview", "ged:download"])
def test_it_answers_405_to_a_post_on_read_only_views(as_user, owner, gestionnaire, view):
    document = add_document(owner, gestionnaire)

    assert as_user(gestionnaire).post(reverse(view, args=[document.pk])).status_code == 405


def test_it_lets_the_owner_decide_who_sees_its_documents(
    monkeypatch, as_user, owner, gestionnaire, other_gestionnaire, no_role
):
    document = add_document(owner, gestionnaire)
    monkeypatch.setattr(
        get_user_model(),
        "ged_access_allowed",
        lambda self, user: user.username in {"claire", "stagiaire"},
        raising=False,
    )
    url = reverse("ged:download", args=[document.pk])

    assert as_user(gestionnaire).get(url).status_code == 200
    assert as_user(other_gestionnaire).get(url).status_code == 403
    assert as_user(no_role).get(url).status_code == 200
    upload_response = as_user(other_gestionnaire).post(
        reverse("ged:upload"), upload_data(owner, upload("x.pdf", pdf_bytes(text="x")))
    )
    assert upload_response.status_code == 403


def test_it_never_lets_an_inactive_user_in_even_if_the_owner_would(
    monkeypatch, as_user, owner, gestionnaire
):
    from ged import access

    document = add_document(owner, gestionnaire)
    monkeypatch.setattr(
        get_user_model(), "ged_access_allowed", lambda self, user: True, raising=False
    )
    gestionnaire.is_active = False

    assert access.can_view(gestionnaire, document) is False
    assert access.can_attach(gestionnaire, owner) is False


def test_it_streams_the_download_from_either_storage(store_kind_client, owner, gestionnaire):
    client = store_kind_client
    content = pdf_bytes(3)
    document = document_store(
        file=upload('Relevé d\'août "2024".pdf', content), owner=owner, added_by=gestionnaire
    )

    response = client.get(reverse("ged:download", args=[document.pk]))

    assert response.status_code == 200
    assert body(response) == content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(content))
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''Relev%C3%A9%20d%27ao%C3%BBt%20%222024%22.pdf"
    )
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


@pytest.fixture
def store_kind_client(store, as_user, gestionnaire):
    return as_user(gestionnaire)


def test_it_quotes_a_plain_ascii_name_in_the_download(as_user, owner, gestionnaire):
    document = add_document(owner, gestionnaire, 'le "bail".pdf')

    response = as_user(gestionnaire).get(reverse("ged:download", args=[document.pk]))

    assert response["Content-Disposition"] == 'attachment; filename="le \\"bail\\".pdf"'


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("scan.pdf", None, "application/pdf"), ("plan.png", PNG, "image/png")],
)
def test_it_previews_pdfs_and_images_inside_our_own_pages(
    as_user, owner, gestionnaire, name, content, content_type
):
    document = add_document(owner, gestionnaire, name, content)

    response = as_user(gestionnaire).get(reverse("ged:preview", args=[document.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert body(response) == (content or pdf_bytes(text=name))


@pytest.mark.parametrize(("name", "content"), [("scan.tif", TIFF), ("message.eml", EMAIL)])
def test_it_offers_no_preview_of_what_browsers_do_not_display(
    as_user, owner, gestionnaire, name, content
):
    document = add_document(owner, gestionnaire, name, content)
    client = as_user(gestionnaire)

    assert client.get(reverse("ged:preview", args=[document.pk])).status_code == 404
    page = client.get(reverse("ged:detail", args=[document.pk]))
    assert "/apercu/" not in page.text
    download = client.get(reverse("ged:download", args=[document.pk]))
    assert download["Content-Disposition"].startswith("attachment;")


def test_it_shows_every_version_on_the_document_page(as_user, owner, gestionnaire):
    first = add_document(owner, gestionnaire, "v1.pdf")
    second = add_document(owner, gestionnaire, "v2.pdf", previous=first)
    third = add_document(owner, gestionnaire, "v3.pdf", previous=second)
    client = as_user(gestionnaire)

    newest = client.get(reverse("ged:detail", args=[third.pk]))
    oldest = client.get(reverse("ged:detail", args=[first.pk]))

    for page in (newest, oldest):
        versions = page.text[page.text.index('class="ged-versions"') :]
        positions = [versions.index(name) for name in ("v3.pdf", "v2.pdf", "v1.pdf")]
        assert positions == sorted(positions)
    # A new version is offered on the current version only.
    assert f'name="previous" value="{third.pk}"' in newest.text
    assert 'name="previous"' not in oldest.text


def test_it_answers_503_when_the_storage_is_down_on_download(
    settings, as_user, owner, gestionnaire
):
    from tests.ged.conftest import s3_options
    from tests.ged.test_storage_failure import closed_port

    document = add_document(owner, gestionnaire)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_options(f"http://127.0.0.1:{closed_port()}", "ged"),
        },
    }

    response = as_user(gestionnaire).get(reverse("ged:download", args=[document.pk]))

    assert response.status_code == 503
    assert response.text == (
        "Le stockage des documents est indisponible pour le moment. "
        "Réessayez dans quelques minutes."
    )


def test_it_keeps_uploads_within_the_size_limit_through_the_view(
    settings, as_user, owner, gestionnaire
):
    settings.GED_MAX_UPLOAD_SIZE = 2048
    big = SimpleUploadedFile("gros.pdf", pdf_bytes() + b"%" * 4096)

    response = as_user(gestionnaire).post(
        reverse("ged:upload"), upload_data(owner, big), headers={"accept": "application/json"}
    )

    assert response.status_code == 400
    assert "trop volumineux" in response.json()["results"][0]["message"]
    assert Document.objects.count() == 0


def test_it_shows_documents_read_only_in_the_admin(as_user, owner, gestionnaire, direction):
    document = add_document(owner, gestionnaire, "bail.pdf")
    client = as_user(direction)

    assert "bail.pdf" in client.get(reverse("admin:ged_document_changelist")).text
    change = client.get(reverse("admin:ged_document_change", args=[document.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.text
    assert client.get(reverse("admin:ged_document_add")).status_code == 403
    delete = client.post(reverse("admin:ged_document_delete", args=[document.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert Document.objects.filter(pk=document.pk).exists()


# --- The upload form follows the settings ---------------------------------------------------


def test_the_upload_form_offers_every_allowed_type_by_default(as_user, owner, gestionnaire):
    response = as_user(gestionnaire).get(owner_url(owner))

    assert (
        'accept=".pdf,.jpg,.jpeg,.jpe,.png,.tif,.tiff,.eml,'
        'application/pdf,image/jpeg,image/png,image/tiff,message/rfc822"'
    ) in response.text
    assert "PDF, JPEG, PNG, TIFF ou e-mail (.eml)." in response.text


def test_the_upload_form_offers_only_the_allowed_types(settings, as_user, owner, gestionnaire):
    settings.GED_ALLOWED_CONTENT_TYPES = ["image/png", "application/pdf"]
    document = add_document(owner, gestionnaire, "bail.pdf")

    for url in (owner_url(owner), reverse("ged:detail", args=[document.pk])):
        response = as_user(gestionnaire).get(url)

        assert 'accept=".pdf,.png,application/pdf,image/png"' in response.text
        assert "PDF ou PNG." in response.text
        assert "TIFF" not in response.text and ".eml" not in response.text
