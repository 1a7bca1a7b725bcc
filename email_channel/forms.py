from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.models import Client, Dossier, Intervenant
from email_channel import selectors
from email_channel.models import InboundMessage


def sender_value(sender) -> str:
    return f"{'intervenant' if isinstance(sender, Intervenant) else 'client'}:{sender.pk}"


def _kind_label(sender) -> str:
    return str(_("client") if isinstance(sender, Client) else _("intervenant"))


class MessageRegisterForm(forms.Form):
    """Choose the dossier and the sender of an email, then register it as an item."""

    dossier = forms.CharField(
        label=_("Dossier reference"),
        max_length=30,
        widget=forms.TextInput(attrs={"list": "dossier-candidates", "autocomplete": "off"}),
    )
    sender = forms.ChoiceField(label=_("Sender"), choices=())
    subject = forms.CharField(label=_("Subject"), max_length=200)
    points = forms.CharField(
        label=_("Request, one point per line"),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    force_reason = forms.CharField(
        label=_("Justification (direction only, sender without a valid mandate)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, message: InboundMessage, **kwargs):
        super().__init__(*args, **kwargs)
        self.message = message
        reference = self.data.get("dossier") if self.is_bound else self.initial.get("dossier")
        self.dossier_obj = (
            Dossier.objects.select_related("client", "gestionnaire")
            .filter(reference=(reference or "").strip())
            .first()
        )
        self.candidates = selectors.sender_candidates(
            address=message.from_address, dossier=self.dossier_obj
        )
        self.fields["sender"].choices = [("", "---------")] + [
            (sender_value(candidate), f"{candidate} · {_kind_label(candidate)}")
            for candidate in self.candidates
        ]

    def clean_dossier(self):
        if self.dossier_obj is None:
            raise forms.ValidationError(_("No dossier has this reference."))
        return self.dossier_obj

    def clean_sender(self):
        value = self.cleaned_data["sender"]
        for candidate in self.candidates:
            if sender_value(candidate) == value:
                return candidate
        raise forms.ValidationError(_("Choose the sender among the contacts listed."))

    def points_list(self) -> list[str]:
        return [line for line in self.cleaned_data["points"].splitlines() if line.strip()]


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this email set aside?"), widget=forms.Textarea(attrs={"rows": 2})
    )
