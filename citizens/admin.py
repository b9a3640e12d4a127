from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from citizens.models import ClientApplication, Report, Service, ServiceAttribute
from controlroom.admin import JournaledAdmin, ReadOnlyMixin, SecretIssuingAdmin


class ServiceAttributeInline(admin.TabularInline):
    model = ServiceAttribute
    extra = 0
    fields = ("order", "code", "description", "datatype", "required", "values",
              "datatype_description")


@admin.register(Service)
class ServiceAdmin(JournaledAdmin):
    list_display = ("name", "code", "group", "category", "severity", "group_radius_m",
                    "group_window_hours", "publish_details", "active", "order")
    list_filter = ("active", "group", "publish_details")
    search_fields = ("name", "code", "keywords")
    inlines = [ServiceAttributeInline]

    def has_delete_permission(self, request, obj=None):
        return False  # reports refer to their service: deactivate it instead


@admin.register(ClientApplication)
class ClientApplicationAdmin(SecretIssuingAdmin):
    issue_method = "issue_key"
    secret_message = _("Clé d'API Open311 de %(name)s, affichée une seule fois : %(secret)s")
    list_display = ("name", "code", "key_hint", "active", "last_used_at")
    list_filter = ("active",)
    readonly_fields = ("key_hint", "last_used_at", "created_at")


@admin.register(Report)
class ReportAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Reports are handled from the staff pages, where the public status is journaled."""

    list_display = ("requested_at", "service", "channel", "status", "alert")
    list_filter = ("status", "channel", "service")
    date_hierarchy = "requested_at"
    exclude = ("email", "phone", "first_name", "last_name", "device_id", "account_id")
