import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, TooManyFilesSent, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from ged import access, selectors
from ged.models import Document
from ged.services import document_store

logger = logging.getLogger(__name__)


def _get_owner(owner_type_id, owner_id):
    """The record documents are attached to, from its content type id and primary key; or 404."""
    try:
        owner_type = ContentType.objects.get_for_id(int(owner_type_id))
        owner_id = int(owner_id)
    except (ContentType.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    model = owner_type.model_class()
    if model is None:
        raise Http404
    return get_object_or_404(model._default_manager, pk=owner_id)


def _get_document_for_user(request, pk) -> Document:
    document = get_object_or_404(Document.objects.select_related("owner_type"), pk=pk)
    if not access.can_view(request.user, document):
        raise PermissionDenied
    return document


def _owner_url(owner) -> str:
    """The owner's own page if it has one, else its GED page."""
    get_absolute_url = getattr(owner, "get_absolute_url", None)
    if callable(get_absolute_url):
        return get_absolute_url()
    owner_type = ContentType.objects.get_for_model(owner)
    return reverse("ged:owner", args=[owner_type.pk, owner.pk])


@require_GET
def owner_documents(request, owner_type_id, owner_id):
    """The documents of one record, with the upload form: the partial on a page of its own."""
    owner = _get_owner(owner_type_id, owner_id)
    if not access.accepts_uploads(owner):
        raise Http404
    if not access.can_view_owner(request.user, owner):
        raise PermissionDenied
    return render(
        request,
        "ged/owner_documents.html",
        {"owner": owner, "documents": selectors.documents_for(owner)},
    )


# Exempt from the middleware's CSRF check only to run it a step later, in `_upload`: the
# middleware reads request.POST first, and a form with more files than
# DATA_UPLOAD_MAX_NUMBER_FILES (GED_MAX_FILES_PER_REQUEST) would end there in a bare 400.
@csrf_exempt
@require_POST
def upload(request):
    """Store the posted files as documents of the posted owner (or one new version).

    The page's script sends one file per request and asks for JSON, to show each file's
    progress; without the script the form posts every file at once and is redirected.
    """
    try:
        request.POST  # noqa: B018 (parses the multipart body: the first access to it)
    except TooManyFilesSent:
        return _too_many_files(request)
    # RequestDataTooBig is left to the 400 page: DATA_UPLOAD_MAX_MEMORY_SIZE counts the form's
    # fields, not its files, so only a forged request meets it.
    return _upload(request)


def _too_many_files(request):
    """Back to the page of the form with a message: all it does, since no CSRF check ran.

    The body did not parse, so neither `next` nor the CSRF token is known: the form's page is
    the Referer, and it must be one of ours; a request from elsewhere gets the plain 400 page.
    """
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    message = ngettext("At most %(n)s file at a time.", "At most %(n)s files at a time.", limit) % {
        "n": limit
    }
    if "application/json" in request.headers.get("Accept", ""):
        result = {"name": "", "ok": False, "message": message}
        return JsonResponse({"results": [result]}, status=400)
    referer = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        raise TooManyFilesSent("Too many files, and no page of ours to go back to.")
    messages.error(request, message)
    return redirect(referer)


@csrf_protect
def _upload(request):
    owner = _get_owner(request.POST.get("owner_type"), request.POST.get("owner_id"))
    if not access.accepts_uploads(owner):
        raise Http404
    if not access.can_attach(request.user, owner):
        raise PermissionDenied
    previous = None
    if request.POST.get("previous"):
        owner_type = ContentType.objects.get_for_model(owner)
        previous = get_object_or_404(
            Document,
            pk=_int_or_404(request.POST["previous"]),
            owner_type=owner_type,
            owner_id=owner.pk,
        )
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = _owner_url(owner)

    files = request.FILES.getlist("files")
    results = []
    if not files:
        results.append({"name": "", "ok": False, "message": _("Choose at least one file.")})
    elif previous is not None and len(files) > 1:
        results.append({"name": "", "ok": False, "message": _("A new version is a single file.")})
    else:
        for file in files:
            results.append(_store_one(request, file=file, owner=owner, previous=previous))

    wants_json = "application/json" in request.headers.get("Accept", "")
    for result in results:
        # With the script, refusals are shown beside each file and successes after the reload.
        if result["ok"]:
            messages.success(request, result["message"])
        elif not wants_json:
            messages.error(request, result["message"])
    if wants_json:
        status = 200 if all(result["ok"] for result in results) else 400
        return JsonResponse({"results": results, "redirect": next_url}, status=status)
    return redirect(next_url)


def _int_or_404(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def _store_one(request, *, file, owner, previous) -> dict:
    try:
        document = document_store(file=file, owner=owner, added_by=request.user, previous=previous)
    except ValidationError as exc:
        return {"name": file.name, "ok": False, "message": " ".join(exc.messages)}
    if not document.is_new:
        message = _("“%(name)s” was already stored for this record.")
    elif previous is not None:
        message = _("“%(name)s” stored as a new version.")
    else:
        message = _("“%(name)s” stored.")
    return {
        "name": file.name,
        "ok": True,
        "message": message % {"name": document.original_filename},
        "document": document.pk,
    }


@require_GET
def detail(request, pk):
    """A document's page: its details, its versions, and a preview for PDFs and images."""
    document = _get_document_for_user(request, pk)
    owner = document.owner
    return render(
        request,
        "ged/detail.html",
        {
            "document": document,
            "owner": owner,
            "owner_url": _owner_url(owner) if owner is not None else None,
            "versions": selectors.document_versions(document),
            "can_attach": owner is not None
            and access.accepts_uploads(owner)
            and access.can_attach(request.user, owner),
        },
    )


@require_GET
@xframe_options_sameorigin  # the document page frames it; X_FRAME_OPTIONS is DENY elsewhere
def preview(request, pk):
    """The file shown inline, for the types a browser displays itself."""
    document = _get_document_for_user(request, pk)
    if not document.is_previewable:
        raise Http404
    return _file_response(document, as_attachment=False)


@require_GET
def download(request, pk):
    document = _get_document_for_user(request, pk)
    return _file_response(document, as_attachment=True)


def _file_response(document: Document, *, as_attachment: bool):
    """Stream the stored bytes, whatever the storage, after the permission check."""
    try:
        stored = document.file.open("rb")
    except Exception:
        logger.exception("Could not open stored document %s (%s)", document.pk, document.file)
        return HttpResponse(
            _("The document store is unavailable right now. Try again in a few minutes."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    # FileResponse encodes the original name in Content-Disposition (RFC 6266, filename*).
    response = FileResponse(
        stored,
        as_attachment=as_attachment,
        filename=document.original_filename,
        content_type=document.content_type,
    )
    response["Content-Length"] = str(document.size)
    # Confidential papers: not kept by shared caches nor on the disk of a shared computer.
    response["Cache-Control"] = "private, no-store"
    return response
