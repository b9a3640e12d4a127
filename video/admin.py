from django.contrib import admin

from controlroom import selectors as zones
from controlroom.admin import JournaledAdmin
from video.models import Camera


@admin.register(Camera)
class CameraAdmin(JournaledAdmin):
    list_display = ("name", "code", "sector", "target_fps", "sensitive", "enabled", "online",
                    "last_frame_at", "measured_fps")
    list_filter = ("enabled", "online", "sensitive", "sector")
    search_fields = ("name", "code")
    readonly_fields = ("online", "last_frame_at", "measured_fps")
    exclude = ("h3",)

    def save_model(self, request, obj, form, change):
        if obj.sector is None and obj.lat is not None and obj.lon is not None:
            obj.sector = zones.sector_at(lat=obj.lat, lon=obj.lon)
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # alerts and statistics refer to cameras: take them out of service
