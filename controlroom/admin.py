from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from controlroom import selectors, services
from controlroom.models import Agency, City, Event, Sector, User


class JournaledAdmin(admin.ModelAdmin):
    """Admin changes go through the configuration services, so each one is journaled."""

    def save_model(self, request, obj, form, change):
        services.configuration_save(instance=obj, by=request.user, created=not change)

    def delete_model(self, request, obj):
        services.configuration_delete(instance=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.configuration_delete(instance=obj, by=request.user)


class PlacePickerInput(forms.NumberInput):
    """The latitude input, followed by a map: a click (or Enter on the focused map) places the
    point and fills latitude and longitude; typing them moves the marker. Leaflet comes from
    django-leaflet's static files; the script is a static file (no inline script: CSP)."""

    template_name = "controlroom/widgets/place_picker.html"

    def get_context(self, name, value, attrs):
        from django.conf import settings

        context = super().get_context(name, value, attrs)
        leaflet = settings.LEAFLET_CONFIG
        context["picker"] = {"center": list(leaflet["DEFAULT_CENTER"]),
                             "zoom": leaflet["DEFAULT_ZOOM"], "tiles": leaflet["TILES"] or "",
                             "boundary": getattr(selectors.city_current(), "boundary", None)}
        return context


class SectorFromPointAdmin(JournaledAdmin):
    """For located equipment: left empty, the sector is the one the point falls in. The point
    is picked on a map."""

    class Media:
        css = {"all": ["leaflet/leaflet.css", "controlroom/css/place_picker.css"]}
        js = ["leaflet/leaflet.js", "controlroom/js/place_picker.js"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "lat":
            kwargs["widget"] = PlacePickerInput(attrs={"step": "any"})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if obj.sector is None and obj.lat is not None and obj.lon is not None:
            obj.sector = selectors.sector_at(lat=obj.lat, lon=obj.lon)
        super().save_model(request, obj, form, change)


class SecretIssuingAdmin(JournaledAdmin):
    """For objects that authenticate with a secret (token, API key) whose digest only is kept:
    a new secret is drawn on creation or by the action, and shown once, to the administrator."""

    issue_method = "issue_token"
    secret_message = _("Jeton de %(name)s, affiché une seule fois : %(secret)s")
    actions = ["issue_new_secret"]

    def save_model(self, request, obj, form, change):
        secret = getattr(obj, self.issue_method)() if not change else None
        super().save_model(request, obj, form, change)
        if secret:
            self._show_secret(request, obj, secret)

    @admin.action(description=_("Émettre un nouveau secret (l'ancien cesse de fonctionner)"))
    def issue_new_secret(self, request, queryset):
        for obj in queryset:
            secret = getattr(obj, self.issue_method)()
            super().save_model(request, obj, None, True)
            self._show_secret(request, obj, secret)

    def _show_secret(self, request, obj, secret):
        messages.warning(request, self.secret_message % {"name": obj, "secret": secret})


@admin.register(User)
class ControlRoomUserAdmin(JournaledAdmin, UserAdmin):
    fieldsets = UserAdmin.fieldsets + ((_("Agence"), {"fields": ("agency",)}),)
    add_fieldsets = UserAdmin.add_fieldsets + ((_("Agence"), {"fields": ("agency",)}),)
    list_display = ("username", "first_name", "last_name", "agency", "is_active", "is_staff")
    list_filter = ("agency", "groups", "is_active", "is_staff")

    # Only a superuser grants these: anyone else would make themselves all-powerful with them.
    superuser_only_fields = ("is_superuser", "user_permissions")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": tuple(
                f for f in options["fields"] if f not in self.superuser_only_fields)})
            for name, options in fieldsets
        ]

    def has_change_permission(self, request, obj=None):
        # A superuser's account (and so its password) is changed by a superuser only.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        services.user_save(user=obj, by=request.user, created=not change)

    def save_related(self, request, form, formsets, change):
        user = form.instance
        before = services.user_access(user) if change else services.UserAccess()
        super().save_related(request, form, formsets, change)
        services.user_access_changed(user=user, before=before, by=request.user)


@admin.register(Agency)
class AgencyAdmin(JournaledAdmin):
    list_display = ("name", "code", "kind", "operates_control_room")
    list_filter = ("kind",)
    search_fields = ("name", "code")


@admin.register(City)
class CityAdmin(JournaledAdmin):
    list_display = ("name", "insee_code")


@admin.register(Sector)
class SectorAdmin(JournaledAdmin):
    list_display = ("name", "code", "city", "updated_at")
    list_filter = ("city",)
    search_fields = ("name", "code")


class ReadOnlyMixin:
    """For records that change only through services (where the rules are), never by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The journal is read-only, for everyone, administrators included."""

    list_display = ("seq", "created_at", "type", "actor_label", "subject_model", "subject_id")
    list_filter = ("type", "subject_app")
    search_fields = ("type", "actor_label", "subject_id")
    ordering = ("-seq",)
    show_full_result_count = False
