from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from controlroom.admin import JournaledAdmin, ReadOnlyMixin
from incidents.admin import procedures  # noqa: F401 - registers the procedure admin
from incidents.models import Alert, Category, Incident, PartnerSystem, Unit


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Operational records change through the console and the API, where rules are enforced."""


@admin.register(Category)
class CategoryAdmin(JournaledAdmin):
    list_display = ("label", "code", "domain", "default_priority", "dedup_window_minutes", "active")
    list_filter = ("domain", "active")
    search_fields = ("label", "code")

    def has_delete_permission(self, request, obj=None):
        return False  # incidents and statistics refer to categories: deactivate instead


@admin.register(Unit)
class UnitAdmin(JournaledAdmin):
    list_display = ("call_sign", "kind", "agency", "status", "position_at", "active")
    list_filter = ("kind", "agency", "status", "active")
    search_fields = ("call_sign",)
    readonly_fields = ("status", "lat", "lon", "position_at", "status_changed_at")

    def has_delete_permission(self, request, obj=None):
        return False  # assignments refer to units: take them out of service instead


@admin.register(PartnerSystem)
class PartnerSystemAdmin(JournaledAdmin):
    list_display = ("name", "code", "agency", "scopes", "token_hint", "active", "last_used_at")
    list_filter = ("active", "agency")
    readonly_fields = ("token_hint", "last_used_at", "created_at")
    actions = ["issue_new_token"]

    def save_model(self, request, obj, form, change):
        token = obj.issue_token() if not change else None
        super().save_model(request, obj, form, change)
        if token:
            self._show_token(request, obj, token)

    @admin.action(description=_("Émettre un nouveau jeton (l'ancien cesse de fonctionner)"))
    def issue_new_token(self, request, queryset):
        for partner in queryset:
            token = partner.issue_token()
            super().save_model(request, partner, None, True)
            self._show_token(request, partner, token)

    def _show_token(self, request, partner, token):
        messages.warning(
            request,
            _("Jeton de %(name)s, affiché une seule fois : %(token)s")
            % {"name": partner.name, "token": token},
        )


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "source", "category", "severity", "title", "status",
                    "repeat_count", "incident")
    list_filter = ("status", "source", "category", "severity")
    search_fields = ("title", "source_ref", "dedup_key")
    date_hierarchy = "received_at"


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "category", "priority", "status", "sector", "created_at")
    list_filter = ("status", "category", "priority", "sector")
    search_fields = ("title", "description", "address")
    date_hierarchy = "created_at"
