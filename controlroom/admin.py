from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from controlroom.models import Agency, City, Event, Sector, User


@admin.register(User)
class ControlRoomUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + ((_("Agence"), {"fields": ("agency",)}),)
    add_fieldsets = UserAdmin.add_fieldsets + ((_("Agence"), {"fields": ("agency",)}),)
    list_display = ("username", "first_name", "last_name", "agency", "is_active", "is_staff")
    list_filter = ("agency", "groups", "is_active", "is_staff")


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "operates_control_room")
    list_filter = ("kind",)
    search_fields = ("name", "code")


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ("name", "insee_code")


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "city", "updated_at")
    list_filter = ("city",)
    search_fields = ("name", "code")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The journal is read-only, for everyone, administrators included."""

    list_display = ("seq", "created_at", "type", "actor_label", "subject_model", "subject_id")
    list_filter = ("type", "subject_app")
    search_fields = ("type", "actor_label", "subject_id")
    ordering = ("-seq",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
