from django import forms
from django.utils.translation import gettext_lazy as _

from redmine_bridge import selectors
from redmine_bridge.models import IssueNote, PushState, WorkRequest


class DossierChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, dossier):
        return f"{dossier.reference} — {dossier.client.name} — {dossier.full_address}"


class WorkRequestForm(forms.ModelForm):
    dossier = DossierChoiceField(queryset=selectors.open_dossiers(), label=_("Dossier"))

    class Meta:
        model = WorkRequest
        fields = ["dossier", "artisan", "description", "place", "priority", "urgency"]
        fields += ["incoming_item"]  # set from the item's page; the service checks its dossier
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "incoming_item": forms.HiddenInput,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # R3: only approved technical intervenants are offered; the service refuses the others.
        self.fields["artisan"].queryset = selectors.approved_artisans()
        self.fields["artisan"].help_text = _(
            "Only the artisans approved by the direction can receive a work request."
        )


class WorkRequestArtisanForm(forms.Form):
    """Another approved artisan for a work request not yet in Redmine (R3)."""

    artisan = forms.ModelChoiceField(queryset=selectors.approved_artisans(), label=_("Artisan"))


class IssueNoteForm(forms.ModelForm):
    class Meta:
        model = IssueNote
        fields = ["text"]
        labels = {"text": _("Written confirmation of the oral exchange")}
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"text": _("E.g. “Key to flat 3 handed to the artisan on Monday at 9 am.”")}


class WorkRequestFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All")), *PushState.choices, (selectors.DONE, _("Done"))],
    )
    mine = forms.BooleanField(label=_("My dossiers only"), required=False)
