from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import Role, has_role
from email_channel import selectors, services, triage
from email_channel.forms import DismissForm, MessageRegisterForm, sender_value
from email_channel.models import InboundMessage, State
from ged.selectors import documents_for


def _require(request, permission: str) -> None:
    """The role groups hold these permissions (see the app's permission migration)."""
    if not request.user.has_perm(f"mailbox.{permission}"):
        raise PermissionDenied(_("Your role does not allow this."))


def _get_message_for_user(request, pk: int, permission: str = "view_inboundmessage"):
    _require(request, permission)
    try:
        message = selectors.message_detail(pk)
    except InboundMessage.DoesNotExist:
        raise Http404 from None
    if message.state == State.QUARANTINED:
        # A quarantined message was not checked: only the direction looks at it.
        _require(request, "view_quarantine")
    return message


@require_GET
def triage_list(request):
    _require(request, "view_inboundmessage")
    page = Paginator(selectors.triage_list(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "mailbox/triage_list.html",
        {
            "page": page,
            "unread": selectors.unread_thread_messages(user=request.user)[:50],
            "unlinked_automatic": selectors.unlinked_automatic_messages()[
                : selectors.UNLINKED_AUTOMATIC_SHOWN
            ],
        },
    )


@require_GET
def quarantine_list(request):
    _require(request, "view_quarantine")
    page = Paginator(selectors.quarantine_list(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "mailbox/quarantine_list.html",
        {"page": page, "mailboxes": selectors.mailboxes()},
    )


@require_GET
def message_detail(request, pk):
    message = _get_message_for_user(request, pk)
    return render(request, "mailbox/message_detail.html", _detail_context(request, message))


def _detail_context(request, message, **forms) -> dict:
    can_change = request.user.has_perm("mailbox.change_inboundmessage")
    context = {
        "message": message,
        # Filed under the message while it waited, or straight under the item it became.
        "documents": documents_for(message)
        or (documents_for(message.item) if message.item_id else []),
        "can_change": can_change,
        "dismiss_form": forms.get("dismiss_form") or DismissForm(),
    }
    return context


def _initial(message: InboundMessage) -> dict:
    """The form's starting point: what the routing found, the email's subject and text."""
    from email_channel import routing
    from email_channel.parsing import ParsedEmail

    parsed = ParsedEmail(
        message_id=message.message_id,
        from_address=message.from_address,
        from_name=message.from_name,
        subject=message.subject,
        date=None,
        in_reply_to=[],
        references=[],
        body=message.body,
    )
    dossier = message.thread_item.dossier if message.thread_item else None
    if dossier is None:
        found = routing.referenced_dossiers(message.subject)
        dossier = found[0] if len(found) == 1 else None
    initial = {
        "dossier": dossier.reference if dossier else "",
        "subject": message.subject[:200],
        "points": services.point_text(message.body, message.subject),
    }
    if message.thread_item:
        sender = message.thread_item.sender
        initial["sender"] = sender_value(sender)
    else:
        place = routing.destination(parsed, at=message.received_at)
        if place.sender is not None:
            initial["sender"] = sender_value(place.sender)
    return initial


@require_http_methods(["GET", "POST"])
def message_register(request, pk):
    """Register an email to be sorted, or split a reply off its thread, as a new item."""
    message = _get_message_for_user(request, pk, "change_inboundmessage")
    _require(request, "view_inboundmessage")
    if message.state not in (State.TRIAGE, State.THREADED):
        messages.error(request, _("This email has already been dealt with."))
        return redirect("mailbox:message", pk=message.pk)
    if request.method == "POST":
        form = MessageRegisterForm(request.POST, message=message)
        if form.is_valid():
            data = form.cleaned_data
            is_direction = has_role(request.user, Role.DIRECTION)
            try:
                item = triage.message_register(
                    message=message,
                    dossier=data["dossier"],
                    sender=data["sender"],
                    subject=data["subject"],
                    points=form.points_list(),
                    by=request.user,
                    force_reason=data["force_reason"] if is_direction else "",
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.error_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Email registered as an item."))
                return redirect("correspondence:item", pk=item.pk)
        status = 400
    else:
        initial = _initial(message)
        # "Show the senders of this dossier" comes back by GET with what was typed so far.
        fields = ("dossier", "sender", "subject", "points")
        initial.update({key: request.GET[key].strip() for key in fields if request.GET.get(key)})
        form = MessageRegisterForm(initial=initial, message=message)
        status = 200
    return render(
        request,
        "mailbox/message_register.html",
        {
            "message": message,
            "form": form,
            "dossier_candidates": selectors.dossier_candidates(address=message.from_address),
            # A follow-up of one of the typed dossier's items goes in its thread instead.
            "thread_candidates": (
                selectors.thread_candidates(form.dossier_obj)
                if message.state == State.TRIAGE and form.dossier_obj is not None
                else []
            ),
        },
        status=status,
    )


@require_POST
def message_dismiss(request, pk):
    message = _get_message_for_user(request, pk, "change_inboundmessage")
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            triage.message_dismiss(
                message=message, reason=form.cleaned_data["reason"], by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Email set aside."))
            return redirect("mailbox:message", pk=message.pk)
    return render(
        request,
        "mailbox/message_detail.html",
        _detail_context(request, message, dismiss_form=form),
        status=400,
    )


@require_POST
def message_attach(request, pk):
    """A sorted email is a follow-up of an existing item: put it in that item's thread."""
    message = _get_message_for_user(request, pk, "change_inboundmessage")
    item = selectors.item_for_attach(request.POST.get("item", ""))
    if item is None:
        raise Http404
    try:
        triage.message_attach(message=message, item=item, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("mailbox:message", pk=message.pk)
    messages.success(request, _("Email put in the thread of the item."))
    return redirect("correspondence:item", pk=item.pk)


@require_POST
def message_acknowledge(request, pk):
    message = _get_message_for_user(request, pk, "change_inboundmessage")
    triage.message_acknowledge(message=message, by=request.user)
    return redirect("mailbox:message", pk=message.pk)


@require_GET
def message_raw(request, pk):
    """The raw bytes of a quarantined message, for the direction, as a download (never shown)."""
    _require(request, "view_quarantine")
    message = InboundMessage.objects.filter(pk=pk).only("pk", "raw").first()
    if message is None or message.raw is None:
        raise Http404
    response = HttpResponse(bytes(message.raw), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="quarantaine-{message.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
