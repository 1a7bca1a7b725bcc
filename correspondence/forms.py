from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from contacts.forms import GestionnaireChoiceField
from contacts.models import Client, Dossier, Intervenant
from correspondence import services
from correspondence.models import Channel, IncomingItem, Kind, Level, Reply
from redmine_bridge.models import WorkRequest


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(one, initial) for one in data]
        return [super().clean(data, initial)] if data else []


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def staff_queryset():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[Role.GESTIONNAIRE, Role.DIRECTION])
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class ItemRegisterForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.REQUEST)
    received_at = forms.DateTimeField(
        label=_("Received at"), widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    dossier = forms.ModelChoiceField(
        label=_("Dossier reference"),
        queryset=Dossier.objects.select_related("client"),
        to_field_name="reference",
        widget=forms.TextInput(attrs={"list": "dossier-references", "placeholder": "D-2026-00042"}),
        error_messages={"invalid_choice": _("No dossier has this reference.")},
    )
    sender_intervenant = forms.ModelChoiceField(
        label=_("Sender (intervenant)"),
        queryset=Intervenant.objects.order_by("name"),
        required=False,
    )
    sender_client = forms.ModelChoiceField(
        label=_("Sender (client)"),
        queryset=Client.objects.none(),  # the dossier's client: see __init__
        required=False,
        help_text=_(
            "The client of the dossier above: type its reference, then “Show the dossier”."
        ),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    points = forms.CharField(
        label=_("Request, point by point"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One point per line: the reply will answer each one."),
    )
    registered = forms.BooleanField(label=_("Registered letter (recommandé)"), required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=20, required=False)
    assigned_to = GestionnaireChoiceField(label=_("Property manager in charge"), queryset=None)
    priority = forms.TypedChoiceField(
        label=_("Importance"), choices=Level.choices, coerce=int, initial=Level.NORMAL
    )
    urgency = forms.TypedChoiceField(
        label=_("Urgency"), choices=Level.choices, coerce=int, initial=Level.NORMAL
    )
    originals = MultipleFileField(
        label=_("Scan of the letter / original email (.eml)"), required=False
    )
    # R10: an appointment is prepared by reading the dossier. The page that shows it puts here
    # the server's signed proof (`services.dossier_review_token`), checked on submission.
    dossier_reviewed = forms.CharField(widget=forms.HiddenInput, required=False)
    # R10: a bailiff's visit registered as something else than an act (see the service).
    not_a_bailiff_act = forms.BooleanField(
        label=_("I confirm that this visit is not the delivery of a bailiff's act"),
        required=False,
        help_text=_("Asked for a visit from a bailiff: only the legal service receives acts."),
    )
    force_reason = forms.CharField(
        label=_("Justification (direction only)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("To register an item from a sender without a valid mandate."),
    )

    # The fields that only some channels have; the page hides the others (static/correspondence).
    CHANNEL_FIELDS = {
        "kind": [Channel.VISIT],
        "not_a_bailiff_act": [Channel.VISIT],
        "registered": [Channel.LETTER],
        "tracking_number": [Channel.LETTER],
        "originals": [Channel.LETTER, Channel.EMAIL],
    }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # A client writes about his own dossier: only the typed dossier's client is offered, so
        # a client base of thousands of tenants never fills this list.
        reference = self.data.get("dossier") if self.is_bound else self.initial.get("dossier")
        self.fields["sender_client"].queryset = Client.objects.filter(
            dossiers__reference=(reference or "").strip()
        )
        self.fields["assigned_to"].queryset = staff_queryset()
        self.fields["received_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["assigned_to"].initial = user.pk

    def clean(self):
        data = super().clean()
        intervenant, client = data.get("sender_intervenant"), data.get("sender_client")
        if bool(intervenant) == bool(client):
            self.add_error(
                "sender_intervenant", _("Choose the sender: one intervenant or one client.")
            )
        channel, kind = data.get("channel"), data.get("kind")
        if channel and channel != Channel.VISIT:
            # The kind is not shown for these channels: a value left from choosing "visit"
            # first means nothing. (The service refuses any other kind for them.)
            data["kind"] = kind = Kind.REQUEST
        if kind == Kind.BAILIFF_ACT and not self.user.has_perm("accounts.register_bailiff_act"):
            self.add_error(
                "kind", _("Only the legal service may register the delivery of a bailiff's act.")
            )
        if channel == Channel.VISIT and kind == Kind.REQUEST:
            self.add_error(
                "kind",
                _("Say whether the visit is an appointment, a routine request or a bailiff's act."),
            )
        dossier = data.get("dossier")
        if channel == Channel.VISIT and kind == Kind.APPOINTMENT and dossier is not None:
            try:
                services.dossier_review_check(
                    token=data.get("dossier_reviewed", ""), dossier=dossier, user=self.user
                )
            except ValidationError as error:
                self.add_error("dossier", error)
        return data

    @property
    def sender(self):
        return self.cleaned_data.get("sender_intervenant") or self.cleaned_data.get("sender_client")

    def points_list(self) -> list[str]:
        return [line for line in self.cleaned_data["points"].splitlines() if line.strip()]


class ReplyForm(forms.Form):
    via = forms.ChoiceField(label=_("Send by"), choices=Reply.Via.choices)
    dated = forms.DateField(
        label=_("Date"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    registered = forms.BooleanField(label=_("Registered letter (recommandé)"), required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=20, required=False)
    recipient_email = forms.EmailField(label=_("Recipient's email"), required=False)

    def __init__(self, *args, item: IncomingItem, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        self.points = list(item.points.all())
        self.fields["dated"].initial = timezone.localdate()
        sender = item.sender
        self.fields["recipient_email"].initial = getattr(sender, "email", "")
        if item.registered:
            self.fields["via"].initial = Reply.Via.LETTER
            self.fields["registered"].initial = True
        elif item.channel == Channel.EMAIL:
            self.fields["via"].initial = Reply.Via.EMAIL
        for point in self.points:
            self.fields[f"answer_{point.pk}"] = forms.CharField(
                label=_("Answer to point %(number)s") % {"number": point.position},
                widget=forms.Textarea(attrs={"rows": 3}),
                required=False,  # the service refuses a missing answer, naming the point
            )

    def answer_fields(self):
        return [(point, self[f"answer_{point.pk}"]) for point in self.points]

    def answers(self) -> dict[int, str]:
        return {point.pk: self.cleaned_data.get(f"answer_{point.pk}", "") for point in self.points}


class EventForm(forms.Form):
    label = forms.CharField(
        label=_("Event"),
        max_length=120,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. insurer received")}),
    )
    text = forms.CharField(
        label=_("Written confirmation"), widget=forms.Textarea(attrs={"rows": 3})
    )
    occurred_at = forms.DateTimeField(
        label=_("Occurred at"), widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    work_request = forms.ModelChoiceField(
        label=_("Work request (if the exchange concerns a job)"),
        queryset=None,
        required=False,
        help_text=_("The confirmation is also written on its Redmine ticket."),
    )

    def __init__(self, *args, dossier, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["work_request"].queryset = WorkRequest.objects.filter(dossier=dossier).order_by(
            "-created_at"
        )
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class AssignForm(forms.Form):
    assigned_to = GestionnaireChoiceField(label=_("Property manager in charge"), queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = staff_queryset()


class WorkListFilterForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("All"))] + Channel.choices, required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            ("", _("Open")),
            ("received", _("Received")),
            ("in_progress", _("In progress")),
            ("overdue", _("Overdue")),
        ],
        required=False,
    )
    dossier = forms.CharField(label=_("Dossier"), required=False)
