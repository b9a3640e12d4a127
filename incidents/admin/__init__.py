from django.contrib import admin

from controlroom.admin import JournaledAdmin, ReadOnlyMixin, SecretIssuingAdmin
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
class PartnerSystemAdmin(SecretIssuingAdmin):
    list_display = ("name", "code", "agency", "scopes", "token_hint", "active", "last_used_at")
    list_filter = ("active", "agency")
    readonly_fields = ("token_hint", "last_used_at", "created_at")


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
