from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import Role, has_role
from contacts.models import Dossier, Intervenant
from contacts.selectors import mandate_check
from correspondence import alerts, selectors, services
from correspondence.forms import (
    AssignForm,
    EventForm,
    ItemRegisterForm,
    ReplyForm,
    WorkListFilterForm,
)
from correspondence.models import IncomingItem
from gerance.lib.forms import add_service_errors

# The routine requests shown above the work list, the most important first (R10).
ACTIONS_SHOWN = 20


def _require(request, permission: str) -> None:
    """The role groups hold these permissions (see the app's permission migration)."""
    if not request.user.has_perm(f"correspondence.{permission}"):
        raise PermissionDenied(_("Your role does not allow this."))


def _get_item_for_user(request, pk: int, permission: str = "view_incomingitem") -> IncomingItem:
    _require(request, permission)
    try:
        return selectors.item_detail(pk)
    except IncomingItem.DoesNotExist:
        raise Http404 from None


@require_GET
def work_list(request):
    _require(request, "view_incomingitem")
    filters = WorkListFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    page = Paginator(selectors.work_list(user=request.user, **criteria), 50).get_page(
        request.GET.get("page")
    )
    # One more than shown: the page says when there are more, without a COUNT query.
    actions = list(selectors.action_list(user=request.user)[: ACTIONS_SHOWN + 1])
    return render(
        request,
        "correspondence/work_list.html",
        {
            "filters": filters,
            "page": page,
            "actions": actions[:ACTIONS_SHOWN],
            "more_actions": len(actions) > ACTIONS_SHOWN,
        },
    )


def _panel_moment(request, form):
    """When the item was received, as typed so far: R1 is judged then, as the service does."""
    value = form.data.get("received_at") if form.is_bound else request.GET.get("received_at")
    if value:
        try:
            return form.fields["received_at"].clean(value)
        except ValidationError:
            pass
    return timezone.now()


def _dossier_panel(request, form) -> dict:
    """The dossier's summary and history, shown before registering (R10), unless R1 forbids it.

    About a sender without a valid mandate, a member of the direction still sees the dossier,
    with the reason of the refusal: only they may force the registration (R1), and an
    appointment they force is prepared by reading the dossier like any other (R10). Nothing of
    it is shown to anyone else.
    """
    reference = (
        form.data.get("dossier") if form.is_bound else request.GET.get("dossier", "")
    ) or ""
    dossier = (
        Dossier.objects.select_related("client", "gestionnaire")
        .filter(reference=reference.strip())
        .first()
    )
    if dossier is None:
        return {}
    sender_id = (
        form.data.get("sender_intervenant")
        if form.is_bound
        else request.GET.get("sender_intervenant")
    )
    panel = {}
    if sender_id:
        sender = (
            Intervenant.objects.filter(pk=sender_id).first() if str(sender_id).isdigit() else None
        )
        if sender is not None:
            check = mandate_check(
                intervenant=sender, client=dossier.client, at=_panel_moment(request, form)
            )
            if not check.ok:
                if not has_role(request.user, Role.DIRECTION):
                    # R1: nothing of the dossier is shown about an interlocutor without mandate.
                    return {"panel_refused": check.reason}
                panel["panel_unmandated"] = check.reason
    return {
        **panel,
        "panel_dossier": dossier,
        "panel_timeline": selectors.dossier_timeline(dossier, limit=10),
    }


@require_http_methods(["GET", "POST"])
def item_register(request):
    _require(request, "add_incomingitem")
    if request.method == "POST":
        form = ItemRegisterForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = services.item_register(
                    channel=data["channel"],
                    kind=data["kind"],
                    received_at=data["received_at"],
                    sender=form.sender,
                    dossier=data["dossier"],
                    subject=data["subject"],
                    points=form.points_list(),
                    registered=data["registered"],
                    tracking_number=data["tracking_number"],
                    assigned_to=data["assigned_to"],
                    priority=data["priority"],
                    urgency=data["urgency"],
                    by=request.user,
                    force_reason=data["force_reason"],
                    not_a_bailiff_act=data["not_a_bailiff_act"],
                    originals=data["originals"],
                )
            except ValidationError as error:
                sender_field = (
                    "sender_intervenant" if data["sender_intervenant"] else "sender_client"
                )
                add_service_errors(form, error, aliases={"sender": sender_field})
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Item registered."))
                return redirect("correspondence:item", pk=item.pk)
    else:
        # "Show the dossier" re-displays the form by GET with what was typed so far.
        initial = {
            key: value
            for key, value in request.GET.items()
            if key in ItemRegisterForm.base_fields and key != "originals"
        }
        form = ItemRegisterForm(user=request.user, initial=initial)
    context = {"form": form, **_dossier_panel(request, form)}
    if "panel_dossier" in context:
        # The page now shows this dossier to this user: the next submission may hold the
        # appointment (R10), with the server's signed proof.
        token = services.dossier_review_token(dossier=context["panel_dossier"], user=request.user)
        if form.is_bound:
            form.data = form.data.copy()
            form.data["dossier_reviewed"] = token
        else:
            form.initial["dossier_reviewed"] = token
    context["dossier_references"] = Dossier.objects.filter(
        gestionnaire=request.user, closed_at=None
    ).values_list("reference", flat=True)[:200]
    return render(request, "correspondence/item_register.html", context)


@require_GET
def item_detail(request, pk):
    item = _get_item_for_user(request, pk)
    return render(request, "correspondence/item_detail.html", _item_context(item))


def _item_context(item, **forms) -> dict:
    from ged.selectors import documents_for

    return {
        "item": item,
        "points": item.points.all(),
        "replies": item.replies.select_related("created_by", "document").prefetch_related(
            "answers__point"
        ),
        "documents": documents_for(item),
        "timeline": selectors.item_timeline(item),
        "reply_form": forms.get("reply_form") or ReplyForm(item=item),
        "event_form": forms.get("event_form") or EventForm(dossier=item.dossier),
        "assign_form": forms.get("assign_form")
        or AssignForm(initial={"assigned_to": item.assigned_to_id}),
        # R1: nothing of the dossier is shown about a sender without a valid mandate.
        "hide_dossier": item.forced_by_id is not None,
    }


def _item_action(
    request, pk, form_class, action, *, permission, form_name, form_kwargs=None, success=""
):
    """POST handler of the item's forms: validate, call the service, redirect or re-render."""
    item = _get_item_for_user(request, pk, permission)
    form = form_class(request.POST, request.FILES, **(form_kwargs(item) if form_kwargs else {}))
    if form.is_valid():
        try:
            action(item, form)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, success)
            return redirect("correspondence:item", pk=item.pk)
    item = selectors.item_detail(pk)
    return render(
        request,
        "correspondence/item_detail.html",
        _item_context(item, **{form_name: form}),
        status=400,
    )


@require_POST
def item_reply(request, pk):
    def action(item, form):
        draft = services.ReplyDraft(
            via=form.cleaned_data["via"],
            dated=form.cleaned_data["dated"],
            answers=form.answers(),
            registered=form.cleaned_data["registered"],
            tracking_number=form.cleaned_data["tracking_number"],
            recipient_email=form.cleaned_data["recipient_email"],
        )
        services.reply_send(item=item, draft=draft, by=request.user)

    return _item_action(
        request,
        pk,
        ReplyForm,
        action,
        permission="add_reply",
        form_name="reply_form",
        form_kwargs=lambda item: {"item": item},
        success=_("Reply registered."),
    )


@require_POST
def item_event(request, pk):
    def action(item, form):
        services.event_record(dossier=item.dossier, item=item, by=request.user, **form.cleaned_data)

    return _item_action(
        request,
        pk,
        EventForm,
        action,
        permission="add_event",
        form_name="event_form",
        form_kwargs=lambda item: {"dossier": item.dossier},
        success=_("Written confirmation recorded."),
    )


@require_POST
def item_assign(request, pk):
    def action(item, form):
        services.item_assign(item=item, to=form.cleaned_data["assigned_to"], by=request.user)

    return _item_action(
        request,
        pk,
        AssignForm,
        action,
        permission="change_incomingitem",
        form_name="assign_form",
        success=_("Item reassigned."),
    )


@require_POST
def item_start(request, pk):
    item = _get_item_for_user(request, pk, "change_incomingitem")
    try:
        services.item_start(item=item, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Processing started."))
    return redirect("correspondence:item", pk=item.pk)


@require_POST
def item_close(request, pk):
    item = _get_item_for_user(request, pk, "change_incomingitem")
    try:
        services.item_close(item=item, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Item closed."))
    return redirect("correspondence:item", pk=item.pk)


@require_GET
def dossier_timeline(request, reference):
    _require(request, "view_incomingitem")
    dossier = get_object_or_404(
        Dossier.objects.select_related("client", "gestionnaire"), reference=reference
    )
    return render(
        request,
        "correspondence/dossier_timeline.html",
        {
            "dossier": dossier,
            "timeline": selectors.dossier_timeline(dossier),
            "register_url": reverse("correspondence:register") + f"?dossier={dossier.reference}",
        },
    )


@require_GET
def alert_list(request):
    """R8: the user's deadline alerts; the direction sees every one, refused emails included."""
    _require(request, "view_incomingitem")
    shown = alerts.alerts_for(request.user)
    refused_only = request.GET.get("refused") == "1"
    if refused_only:
        shown = shown.exclude(email_error="")
    page = Paginator(shown, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "correspondence/alerts.html",
        {"page": page, "refused_only": refused_only, "now": timezone.now()},
    )
