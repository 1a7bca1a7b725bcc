from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from contacts.models import ApprovalState, Client, Dossier, Intervenant, Mandate


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ClientByReferenceField(forms.ModelChoiceField):
    """A client typed by his client base reference ("login"), which every letter carries."""

    def __init__(self, **kwargs):
        super().__init__(
            queryset=Client.objects.all(),
            to_field_name="reference",
            widget=forms.TextInput(attrs={"autocomplete": "off"}),
            error_messages={"invalid_choice": _("No client has the reference %(value)s.")},
            **kwargs,
        )

    def prepare_value(self, value):
        if isinstance(value, Client):
            return value.reference
        if isinstance(value, int):  # an instance's client_id, when editing
            return Client.objects.filter(pk=value).values_list("reference", flat=True).first()
        return super().prepare_value(value)


class GestionnaireChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


def gestionnaires():
    return (
        get_user_model()
        .objects.filter(groups__name=Role.GESTIONNAIRE.value, is_active=True)
        .order_by("last_name", "first_name", "username")
        .distinct()
    )


class ClientForm(forms.ModelForm):
    active = forms.BooleanField(label=_("Active in the client base"), required=False, initial=True)

    class Meta:
        model = Client
        fields = ["reference", "name", "kind", "email", "phone", "address"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["active"].initial = self.instance.deactivated_at is None
        else:
            del self.fields["active"]


class DossierForm(forms.ModelForm):
    client = ClientByReferenceField(label=_("Client (client base reference)"))
    gestionnaire = GestionnaireChoiceField(
        queryset=gestionnaires(), label=_("Property manager in charge")
    )

    class Meta:
        model = Dossier
        fields = ["client", "label", "property_address", "postal_code", "city", "gestionnaire"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gestionnaire"].queryset = gestionnaires()


class IntervenantForm(forms.ModelForm):
    class Meta:
        model = Intervenant
        fields = [
            "name",
            "kind",
            "category",
            "channel_override",
            "email",
            "phone",
            "siret",
            "reference",
            "address",
            "notes",
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "category": _(
                "Leave empty to use the category of the kind; a fellow agency may be "
                "administrative or commercial."
            ),
            "siret": _("For a company: 14 digits."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].required = False

    def _post_clean(self):
        # R2: the category follows the kind unless the user chose one (a fellow agency).
        if not self.cleaned_data.get("category") and self.cleaned_data.get("kind"):
            self.cleaned_data["category"] = Intervenant.default_category(self.cleaned_data["kind"])
        super()._post_clean()


class IntervenantSearchForm(forms.Form):
    q = forms.CharField(label=_("Name, email, SIRET or reference"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All"))] + Intervenant.Kind.choices
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("All"))] + Intervenant.Category.choices,
    )
    approval_state = forms.ChoiceField(
        label=_("Approval"), required=False, choices=[("", _("All"))] + ApprovalState.choices
    )


class ClientSearchForm(forms.Form):
    q = forms.CharField(label=_("Name, email or reference"), required=False)


class DossierSearchForm(forms.Form):
    q = forms.CharField(label=_("Reference, address or client"), required=False)
    mine = forms.BooleanField(label=_("My dossiers only"), required=False)


class MandateForm(forms.ModelForm):
    client = ClientByReferenceField(label=_("Client (client base reference)"))
    proof_file = forms.FileField(
        label=_("Proof (the signed mandate)"),
        required=False,
        help_text=_(
            "Without its proof in the GED, the intervenant is not considered duly mandated."
        ),
    )

    class Meta:
        model = Mandate
        fields = ["client", "direction", "valid_from", "valid_until", "scope"]
        widgets = {
            "valid_from": DateInput(),
            "valid_until": DateInput(),
            "direction": forms.RadioSelect,
            "scope": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, intervenant: Intervenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.intervenant = intervenant
        if self.instance.pk:
            # A mandate stays between the same two parties, in the same direction; a new pair
            # is a new mandate (services.mandate_update).
            del self.fields["client"]
            del self.fields["direction"]
            if self.instance.proof_id:
                self.fields["proof_file"].label = _("Replace the proof")
                self.fields["proof_file"].help_text = ""


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
