"""The gestionnaire's pages of the client base. Thin: fetch, validate a form, call a service."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role
from contacts import selectors, services
from contacts.forms import (
    ClientForm,
    ClientSearchForm,
    DossierForm,
    DossierSearchForm,
    IntervenantForm,
    IntervenantSearchForm,
    MandateForm,
    ReasonForm,
)
from contacts.models import Client, Dossier, Intervenant, Mandate
from gerance.lib.forms import add_service_errors

PAGE_SIZE = 25


def _permission(codename: str):
    return permission_required(f"contacts.{codename}", raise_exception=True)


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _service_errors(form, exc: ValidationError | IntegrityError) -> None:
    """Show a service's refusal on the form (a race lost on a unique constraint included)."""
    if isinstance(exc, IntegrityError):
        form.add_error(None, _("This record was changed at the same time; please try again."))
    else:
        add_service_errors(form, exc)


def _querystring_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# --- Intervenants ---------------------------------------------------------------------------
@_permission("view_intervenant")
def intervenant_list(request):
    form = IntervenantSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    intervenants = selectors.intervenant_search(
        query=filters.get("q", ""),
        kind=filters.get("kind", ""),
        category=filters.get("category", ""),
        approval_state=filters.get("approval_state", ""),
    )
    return render(
        request,
        "contacts/intervenant_list.html",
        {
            "form": form,
            "page": _page(request, intervenants),
            "querystring": _querystring_without_page(request),
        },
    )


@_permission("view_intervenant")
def intervenant_detail(request, pk: int):
    intervenant = get_object_or_404(
        Intervenant.objects.select_related("proposed_by", "approved_by"), pk=pk
    )
    return render(
        request,
        "contacts/intervenant_detail.html",
        {
            "intervenant": intervenant,
            "mandates": selectors.intervenant_mandates(intervenant),
            "decisions": selectors.intervenant_decisions(intervenant),
            "now": timezone.now(),
            "can_propose": intervenant.is_technical
            and intervenant.approval_state
            in (Intervenant.ApprovalState.NOT_PROPOSED, Intervenant.ApprovalState.REFUSED)
            and request.user.has_perm(services.PROPOSE_PERMISSION),
        },
    )


@_permission("add_intervenant")
def intervenant_create(request):
    form = IntervenantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            intervenant = services.intervenant_create(**form.cleaned_data)
        except (ValidationError, IntegrityError) as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("The intervenant has been registered."))
            return redirect("contacts:intervenant_detail", pk=intervenant.pk)
    return render(request, "contacts/intervenant_form.html", {"form": form})


@_permission("change_intervenant")
def intervenant_edit(request, pk: int):
    intervenant = get_object_or_404(Intervenant, pk=pk)
    form = IntervenantForm(request.POST or None, instance=intervenant)
    if request.method == "POST" and form.is_valid():
        try:
            services.intervenant_update(intervenant=intervenant, **form.cleaned_data)
        except (ValidationError, IntegrityError) as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("The intervenant has been updated."))
            return redirect("contacts:intervenant_detail", pk=intervenant.pk)
    return render(
        request, "contacts/intervenant_form.html", {"form": form, "intervenant": intervenant}
    )


@require_POST
@_permission("change_intervenant")
def intervenant_propose(request, pk: int):
    """R3: a gestionnaire proposes a technical intervenant to the direction."""
    intervenant = get_object_or_404(Intervenant, pk=pk)
    try:
        services.artisan_propose(intervenant=intervenant, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The artisan has been proposed to the direction."))
    return redirect("contacts:intervenant_detail", pk=intervenant.pk)


# --- Clients --------------------------------------------------------------------------------
@_permission("view_client")
def client_list(request):
    form = ClientSearchForm(request.GET or None)
    query = form.cleaned_data.get("q", "") if form.is_valid() else ""
    return render(
        request,
        "contacts/client_list.html",
        {
            "form": form,
            "page": _page(request, selectors.client_search(query=query)),
            "querystring": _querystring_without_page(request),
        },
    )


@_permission("view_client")
def client_detail(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    return render(
        request,
        "contacts/client_detail.html",
        {
            "client": client,
            "dossiers": selectors.client_dossiers(client),
            "mandates": selectors.client_mandates(client),
            "now": timezone.now(),
        },
    )


@_permission("add_client")
def client_create(request):
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(**form.cleaned_data)
        except (ValidationError, IntegrityError) as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("The client has been registered."))
            return redirect("contacts:client_detail", pk=client.pk)
    return render(request, "contacts/client_form.html", {"form": form})


@_permission("change_client")
def client_edit(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(client=client, **form.cleaned_data)
        except (ValidationError, IntegrityError) as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("The client has been updated."))
            return redirect("contacts:client_detail", pk=client.pk)
    return render(request, "contacts/client_form.html", {"form": form, "client": client})


# --- Dossiers -------------------------------------------------------------------------------
@_permission("view_dossier")
def dossier_list(request):
    form = DossierSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    dossiers = selectors.dossier_search(
        query=filters.get("q", ""),
        gestionnaire=request.user if filters.get("mine") else None,
    )
    return render(
        request,
        "contacts/dossier_list.html",
        {
            "form": form,
            "page": _page(request, dossiers),
            "querystring": _querystring_without_page(request),
        },
    )


@_permission("view_dossier")
def dossier_detail(request, pk: int):
    dossier = get_object_or_404(Dossier.objects.select_related("client", "gestionnaire"), pk=pk)
    return render(
        request,
        "contacts/dossier_detail.html",
        {
            "dossier": dossier,
            "mandates": selectors.client_mandates(dossier.client),
            "now": timezone.now(),
        },
    )


@_permission("add_dossier")
def dossier_create(request):
    initial = {}
    client = Client.objects.filter(pk=request.GET.get("client") or None).first()
    if client is not None:
        initial["client"] = client
    if has_role(request.user, Role.GESTIONNAIRE):
        initial["gestionnaire"] = request.user
    form = DossierForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            dossier = services.dossier_create(**form.cleaned_data)
        except (ValidationError, IntegrityError) as exc:
            _service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The dossier %(reference)s has been opened.") % {"reference": dossier.reference},
            )
            return redirect("contacts:dossier_detail", pk=dossier.pk)
    return render(request, "contacts/dossier_form.html", {"form": form})


@_permission("change_dossier")
def dossier_edit(request, pk: int):
    dossier = get_object_or_404(Dossier, pk=pk)
    form = DossierForm(request.POST or None, instance=dossier)
    if request.method == "POST" and form.is_valid():
        try:
            services.dossier_update(dossier=dossier, **form.cleaned_data)
        except (ValidationError, IntegrityError) as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("The dossier has been updated."))
            return redirect("contacts:dossier_detail", pk=dossier.pk)
    return render(request, "contacts/dossier_form.html", {"form": form, "dossier": dossier})


# --- Mandates -------------------------------------------------------------------------------
@_permission("add_mandate")
def mandate_create(request, intervenant_pk: int):
    intervenant = get_object_or_404(Intervenant, pk=intervenant_pk)
    initial = {"valid_from": timezone.localdate()}
    client = Client.objects.filter(reference=request.GET.get("client", "")).first()
    if client is not None:
        initial["client"] = client
    form = MandateForm(
        request.POST or None, request.FILES or None, intervenant=intervenant, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.mandate_create(intervenant=intervenant, by=request.user, **form.cleaned_data)
        except (ValidationError, IntegrityError) as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("The mandate has been recorded."))
            return redirect("contacts:intervenant_detail", pk=intervenant.pk)
    return render(request, "contacts/mandate_form.html", {"form": form, "intervenant": intervenant})


def _get_mandate(pk: int) -> Mandate:
    return get_object_or_404(Mandate.objects.select_related("intervenant", "client"), pk=pk)


@_permission("change_mandate")
def mandate_edit(request, pk: int):
    mandate = _get_mandate(pk)
    if mandate.revoked_at is not None:
        raise PermissionDenied(_("A revoked mandate can no longer be changed."))
    form = MandateForm(
        request.POST or None,
        request.FILES or None,
        instance=mandate,
        intervenant=mandate.intervenant,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.mandate_update(mandate=mandate, by=request.user, **form.cleaned_data)
        except (ValidationError, IntegrityError) as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("The mandate has been updated."))
            return redirect("contacts:intervenant_detail", pk=mandate.intervenant_id)
    return render(
        request,
        "contacts/mandate_form.html",
        {"form": form, "mandate": mandate, "intervenant": mandate.intervenant},
    )


@_permission("change_mandate")
def mandate_revoke(request, pk: int):
    mandate = _get_mandate(pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mandate_revoke(
                mandate=mandate, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("The mandate has been revoked."))
            return redirect("contacts:intervenant_detail", pk=mandate.intervenant_id)
    return render(request, "contacts/mandate_revoke.html", {"form": form, "mandate": mandate})
