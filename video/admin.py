from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from controlroom.admin import JournaledAdmin, ReadOnlyMixin, SectorFromPointAdmin
from video.admin_forms import CameraForm, rule_field_names
from video.analytics.rules import RULES
from video.catalogue import RULE_LABELS
from video.models import Camera, Screen, ScreenRouting, VideoEvent, ZoneStatistic


@admin.register(Camera)
class CameraAdmin(SectorFromPointAdmin):
    list_display = ("name", "code", "sector", "detector", "target_fps", "sensitive", "enabled",
                    "online", "last_frame_at", "measured_fps", "last_error")
    list_filter = ("enabled", "online", "sensitive", "detector", "sector")
    search_fields = ("name", "code")
    readonly_fields = ("online", "last_frame_at", "measured_fps", "last_error", "failures",
                       "retry_at")
    form = CameraForm

    class Media:
        css = {"all": ["video/css/video.css"]}
        js = ["video/js/zone_editor.js"]

    def get_fieldsets(self, request, obj=None):
        """The camera's own fields, then one folded group per analysis (its settings as
        fields; the form writes them into ``analytics``)."""
        own = [name for name in Camera._meta.get_fields()
               if getattr(name, "editable", False) and not name.auto_created]
        main = [field.name for field in own if field.name not in ("h3",)]
        main += [name for name in self.readonly_fields if name not in main]
        groups = [(None, {"fields": main})]
        for rule in RULES:
            groups.append((RULE_LABELS.get(rule, rule),
                           {"fields": rule_field_names(rule), "classes": ("collapse",)}))
        return groups

    def save_model(self, request, obj, form, change):
        # New settings deserve a new attempt at once, whatever the backoff said.
        obj.failures, obj.retry_at = 0, None
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # alerts and statistics refer to cameras: take them out of service


@admin.register(Screen)
class ScreenAdmin(JournaledAdmin):
    list_display = ("name", "code", "place", "camera", "routed_at", "page")
    search_fields = ("name", "code")
    readonly_fields = ("camera", "routed_by", "routed_at")

    @admin.display(description=_("page de l'écran"))
    def page(self, obj):
        from django.urls import reverse

        url = reverse("video:screen", args=[obj.code])
        return format_html('<a href="{}">{}</a>', url, url)


@admin.register(ScreenRouting)
class ScreenRoutingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("requested_at", "screen", "camera", "status", "requested_by", "decided_by")
    list_filter = ("status", "screen")


@admin.register(VideoEvent)
class VideoEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "camera", "rule", "zone", "confidence", "alert")
    list_filter = ("rule", "camera")
    exclude = ("snapshot",)


@admin.register(ZoneStatistic)
class ZoneStatisticAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("period_start", "camera", "zone", "people_max", "samples",
                    "crossings_forward", "crossings_backward")
    list_filter = ("camera",)
    date_hierarchy = "period_start"
