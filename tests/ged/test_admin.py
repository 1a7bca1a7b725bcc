"""The documents in the Django admin: read-only, and files only through the GED's own views."""

from django.urls import reverse

from ged.services import document_store
from tests.factories import UserFactory
from tests.ged.conftest import TIFF, pdf_bytes, upload


def admin_page(client, document):
    superuser = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    response = client.get(reverse("admin:ged_document_change", args=[document.pk]))
    assert response.status_code == 200
    return response.text


def test_it_links_the_download_view_and_never_the_storage(client, store, owner, gestionnaire):
    document = document_store(
        file=upload("bail.pdf", pdf_bytes()), owner=owner, added_by=gestionnaire
    )

    page = admin_page(client, document)

    assert f'href="{reverse("ged:download", args=[document.pk])}"' in page
    assert f'href="{reverse("ged:preview", args=[document.pk])}"' in page
    # Neither the key nor the storage's URL (presigned on S3, a media URL locally).
    assert document.file.name not in page
    assert document.file.name.rsplit("/", 1)[-1] not in page
    if store.kind == "s3":
        assert store.bucket not in page
        assert "X-Amz" not in page


def test_it_offers_no_preview_for_a_type_the_browser_does_not_show(client, owner, gestionnaire):
    document = document_store(file=upload("plan.tif", TIFF), owner=owner, added_by=gestionnaire)

    page = admin_page(client, document)

    assert f'href="{reverse("ged:download", args=[document.pk])}"' in page
    assert reverse("ged:preview", args=[document.pk]) not in page
    assert document.file.name not in page
