"""The gestionnaire's pages for work requests. Thin: fetch, validate a form, call a service."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gerance.lib.forms import add_service_errors
from redmine_bridge import client, selectors, services
from redmine_bridge.forms import (
    IssueNoteForm,
    WorkRequestArtisanForm,
    WorkRequestFilterForm,
    WorkRequestForm,
)
from redmine_bridge.models import ArtisanAccount, WorkRequest

PAGE_SIZE = 25


def _permission(codename: str):
    return permission_required(f"redmine_bridge.{codename}", raise_exception=True)


def _context(**extra) -> dict:
    return {"redmine_configured": client.is_configured(), **extra}


@_permission("view_workrequest")
def work_request_list(request):
    form = WorkRequestFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    work_requests = selectors.work_request_search(
        state=filters.get("state", ""),
        managed_by=request.user if filters.get("mine") else None,
    )
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "redmine_bridge/work_request_list.html",
        _context(
            form=form,
            page=Paginator(work_requests, PAGE_SIZE).get_page(request.GET.get("page")),
            querystring=params.urlencode(),
            failed=selectors.failed_counts(),
        ),
    )


@_permission("add_workrequest")
def work_request_create(request):
    initial = {}
    if request.GET.get("dossier", "").isdigit():
        initial["dossier"] = request.GET["dossier"]
    item = selectors.item_for_work_request(request.GET.get("item", ""))
    if item is not None:  # from the item's page: its dossier, and its request as a start
        initial.update(
            dossier=item.dossier_id,
            incoming_item=item.pk,
            description="\n".join(point.text for point in item.points.all()),
        )
    form = WorkRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            work_request = services.work_request_create(
                requested_by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Work request recorded; it is being sent to Redmine.")
                if client.is_configured()
                else _("Work request recorded; it will be sent once Redmine is configured."),
            )
            return redirect("redmine_bridge:work_request_detail", pk=work_request.pk)
    return render(request, "redmine_bridge/work_request_form.html", _context(form=form, item=item))


def _get_work_request(pk: int) -> WorkRequest:
    return get_object_or_404(
        WorkRequest.objects.select_related(
            "dossier",
            "dossier__client",
            "artisan",
            "requested_by",
            "artisan__redmine_account",
            "incoming_item",
        ),
        pk=pk,
    )


@_permission("view_workrequest")
def work_request_detail(request, pk: int):
    work_request = _get_work_request(pk)
    return render(
        request,
        "redmine_bridge/work_request_detail.html",
        _context(
            work_request=work_request,
            notes=selectors.work_request_notes(work_request),
            note_form=IssueNoteForm(),
            artisan_form=WorkRequestArtisanForm(),
            account=getattr(work_request.artisan, "redmine_account", None),
        ),
    )


@require_POST
@_permission("change_workrequest")
def work_request_reassign(request, pk: int):
    work_request = _get_work_request(pk)
    form = WorkRequestArtisanForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an artisan approved by the direction."))
        return redirect("redmine_bridge:work_request_detail", pk=pk)
    try:
        services.work_request_reassign(
            work_request=work_request, artisan=form.cleaned_data["artisan"], by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Artisan changed; the work request is being sent to Redmine."))
    return redirect("redmine_bridge:work_request_detail", pk=pk)


@require_POST
@_permission("change_workrequest")
def work_request_retry(request, pk: int):
    work_request = _get_work_request(pk)
    try:
        services.work_request_retry(work_request=work_request, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Sending to Redmine again."))
    return redirect("redmine_bridge:work_request_detail", pk=pk)


@require_POST
@_permission("change_workrequest")
def retry_all(request):
    counts = services.outbox_retry_failed(by=request.user)
    messages.success(
        request,
        _("%(count)s refused items are sent to Redmine again.") % {"count": sum(counts.values())},
    )
    return redirect("redmine_bridge:work_request_list")


@require_POST
@_permission("add_issuenote")
def note_add(request, pk: int):
    work_request = _get_work_request(pk)
    form = IssueNoteForm(request.POST)
    if form.is_valid():
        from correspondence.services import event_record

        try:
            # R9: through the dossier's event log, which shows the note and its push state.
            event_record(
                dossier=work_request.dossier,
                work_request=work_request,
                label=_("Oral exchange about the work"),
                text=form.cleaned_data["text"],
                occurred_at=timezone.now(),
                by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Note recorded; it is being added to the Redmine issue."))
            return redirect("redmine_bridge:work_request_detail", pk=pk)
    return render(
        request,
        "redmine_bridge/work_request_detail.html",
        _context(
            work_request=work_request,
            notes=selectors.work_request_notes(work_request),
            note_form=form,
            artisan_form=WorkRequestArtisanForm(),
            account=getattr(work_request.artisan, "redmine_account", None),
        ),
        status=400,
    )


@require_POST
@_permission("change_artisanaccount")
def artisan_account_retry(request, pk: int):
    account = get_object_or_404(ArtisanAccount, pk=pk)
    try:
        services.artisan_account_retry(account=account, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Creating the Redmine account again."))
    return redirect("contacts:intervenant_detail", pk=account.intervenant_id)
