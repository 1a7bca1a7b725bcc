"""The client base in the Django admin; the direction approves artisans here (R3)."""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import services
from contacts.forms import ReasonForm
from contacts.models import (
    ApprovalState,
    ArtisanDecision,
    Client,
    Dossier,
    Intervenant,
    Mandate,
)
from contacts.selectors import approval_state_q


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["reference", "name", "kind", "email", "phone", "deactivated_at"]
    list_filter = ["kind"]
    search_fields = ["reference", "name", "email"]


@admin.register(Dossier)
class DossierAdmin(admin.ModelAdmin):
    list_display = ["reference", "client", "property_address", "city", "gestionnaire"]
    list_select_related = ["client", "gestionnaire"]
    search_fields = ["reference", "client__name", "client__reference", "property_address"]
    readonly_fields = ["reference"]
    raw_id_fields = ["client"]

    def save_model(self, request, obj, form, change):
        if not change:
            # The admin's change view runs in a transaction: the number stays locked until
            # this dossier is committed (see services.dossier_reference_next).
            obj.reference = services.dossier_reference_next()
        super().save_model(request, obj, form, change)


class ApprovalStateFilter(admin.SimpleListFilter):
    title = gettext_lazy("approval")
    parameter_name = "approval_state"

    def lookups(self, request, model_admin):
        return ApprovalState.choices

    def queryset(self, request, queryset):
        if self.value() in ApprovalState.values:
            return queryset.filter(approval_state_q(self.value()))
        return queryset


class ArtisanDecisionInline(admin.TabularInline):
    """The approval history, read-only: decisions are written by the services alone."""

    model = ArtisanDecision
    fields = ["decided_at", "decision", "decided_by", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-decided_at", "-pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Intervenant)
class IntervenantAdmin(admin.ModelAdmin):
    change_form_template = "admin/contacts/intervenant/change_form.html"
    list_display = [
        "name",
        "kind",
        "category",
        "approval_state_display",
        "approved_at",
        "approved_by",
        "proposed_at",
    ]
    list_filter = [ApprovalStateFilter, "category", "kind"]
    list_select_related = ["approved_by"]
    search_fields = ["name", "email", "siret", "reference"]
    readonly_fields = [
        "proposed_at",
        "proposed_by",
        "approved_at",
        "approved_by",
        "refused_at",
    ]
    inlines = [ArtisanDecisionInline]
    actions = ["approve_selected", "refuse_selected"]

    @admin.display(description=gettext_lazy("approval"))
    def approval_state_display(self, obj):
        return obj.get_approval_state_display()

    def has_approve_permission(self, request):
        return request.user.has_perm(services.APPROVE_PERMISSION)

    # --- bulk actions (R3) ---------------------------------------------------------------
    @admin.action(
        permissions=["approve"], description=gettext_lazy("Approve the selected artisans")
    )
    def approve_selected(self, request, queryset):
        approved = 0
        for intervenant in queryset:
            try:
                services.artisan_approve(intervenant=intervenant, by=request.user)
            except ValidationError as exc:
                self._report_refusal(request, intervenant, exc)
            else:
                approved += 1
        if approved:
            self.message_user(
                request,
                _("%(count)d artisan(s) approved; their Redmine registration is pending.")
                % {"count": approved},
                messages.SUCCESS,
            )

    @admin.action(permissions=["approve"], description=gettext_lazy("Refuse the selected artisans"))
    def refuse_selected(self, request, queryset):
        """Ask for the reason on an intermediate page, then refuse each selected artisan."""
        form = ReasonForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            refused = 0
            for intervenant in queryset:
                try:
                    services.artisan_refuse(
                        intervenant=intervenant,
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except ValidationError as exc:
                    self._report_refusal(request, intervenant, exc)
                else:
                    refused += 1
            if refused:
                self.message_user(request, _("%(count)d artisan(s) refused.") % {"count": refused})
            return None
        return TemplateResponse(
            request,
            "admin/contacts/intervenant/refuse_selected.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Refuse the selected artisans"),
                "opts": self.model._meta,
                "form": form,
                "intervenants": queryset,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    def _report_refusal(self, request, intervenant, exc: ValidationError):
        self.message_user(
            request,
            _("%(name)s: %(reason)s")
            % {"name": intervenant.name, "reason": " ".join(exc.messages)},
            messages.ERROR,
        )

    # --- buttons of the change page ------------------------------------------------------
    def get_urls(self):
        return [
            path(
                "<int:pk>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="contacts_intervenant_approve",
            ),
            path(
                "<int:pk>/refuse/",
                self.admin_site.admin_view(self.refuse_view),
                name="contacts_intervenant_refuse",
            ),
            path(
                "<int:pk>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="contacts_intervenant_revoke",
            ),
            *super().get_urls(),
        ]

    def _change_url(self, intervenant):
        return reverse("admin:contacts_intervenant_change", args=[intervenant.pk])

    def approve_view(self, request, pk):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        intervenant = get_object_or_404(Intervenant, pk=pk)
        if not self.has_approve_permission(request):
            raise PermissionDenied
        try:
            services.artisan_approve(intervenant=intervenant, by=request.user)
        except ValidationError as exc:
            self._report_refusal(request, intervenant, exc)
        else:
            self.message_user(
                request,
                _("%(name)s is approved; the Redmine registration is pending.")
                % {"name": intervenant.name},
                messages.SUCCESS,
            )
        return redirect(self._change_url(intervenant))

    def refuse_view(self, request, pk):
        return self._decide_with_reason(
            request,
            pk,
            services.artisan_refuse,
            title=_("Refuse %(name)s"),
            question=_("Why is %(name)s refused? The reason is recorded in the approval history."),
            submit=_("Refuse this artisan"),
            done=_("%(name)s is refused."),
        )

    def revoke_view(self, request, pk):
        return self._decide_with_reason(
            request,
            pk,
            services.artisan_revoke,
            title=_("Revoke the approval of %(name)s"),
            question=_(
                "Why is the approval of %(name)s revoked? He will no longer receive work "
                "requests and his Redmine account will be locked. The reason is recorded in the "
                "approval history."
            ),
            submit=_("Revoke the approval"),
            done=_("The approval of %(name)s is revoked; his Redmine account will be locked."),
        )

    def _decide_with_reason(self, request, pk, decide, *, title, question, submit, done):
        """A decision of the direction that needs a reason: ask for it, then decide."""
        intervenant = get_object_or_404(Intervenant, pk=pk)
        if not self.has_approve_permission(request):
            raise PermissionDenied
        names = {"name": intervenant.name}
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                decide(intervenant=intervenant, by=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                self._report_refusal(request, intervenant, exc)
            else:
                self.message_user(request, done % names)
            return redirect(self._change_url(intervenant))
        return TemplateResponse(
            request,
            "admin/contacts/intervenant/decision_reason.html",
            {
                **self.admin_site.each_context(request),
                "title": title % names,
                "question": question % names,
                "submit": submit,
                "opts": self.model._meta,
                "original": intervenant,
                "form": form,
            },
        )

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["can_decide"] = bool(
            obj is not None and obj.is_technical and self.has_approve_permission(request)
        )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


@admin.register(Mandate)
class MandateAdmin(admin.ModelAdmin):
    """Mandates (R1), written through the services like on the gestionnaire's pages.

    A mandate stays between the same two parties, in the same direction: its proof, signed by
    that client, must never vouch for another one (a new pair is a new mandate). A revoked
    mandate is history: read-only, never deleted.
    """

    list_display = ["intervenant", "client", "direction", "valid_from", "valid_until", "revoked_at"]
    list_filter = ["direction"]
    list_select_related = ["intervenant", "client"]
    search_fields = ["intervenant__name", "client__name", "client__reference"]
    raw_id_fields = ["intervenant", "client"]
    readonly_fields = [
        "proof",
        "revoked_at",
        "revoked_by",
        "revocation_reason",
        "created_by",
        "created_at",
    ]
    # Fixed once the mandate exists (see services.mandate_update).
    PAIR_FIELDS = ["intervenant", "client", "direction"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.PAIR_FIELDS, *self.readonly_fields]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.revoked_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.revoked_at is not None:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            # Only the fields of the form: the pair and the revocation are not among them.
            services.mandate_update(
                mandate=obj,
                by=request.user,
                **{name: data[name] for name in services.MANDATE_FIELDS if name in data},
            )
            return
        created = services.mandate_create(
            intervenant=data["intervenant"],
            client=data["client"],
            direction=data["direction"],
            valid_from=data["valid_from"],
            valid_until=data.get("valid_until"),
            scope=data.get("scope", ""),
            by=request.user,
        )
        # The admin goes on with `obj` (its log entry, its redirect): it becomes the saved row.
        obj.pk = created.pk
        obj.refresh_from_db()
        obj._state.adding = False


@admin.register(ArtisanDecision)
class ArtisanDecisionAdmin(admin.ModelAdmin):
    """Append-only: visible, never added, changed or deleted by hand."""

    list_display = ["decided_at", "intervenant", "decision", "decided_by", "reason"]
    list_filter = ["decision"]
    list_select_related = ["intervenant", "decided_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
