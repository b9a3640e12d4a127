from django.contrib import admin

from controlroom.admin import SectorFromPointAdmin
from video.models import Camera


@admin.register(Camera)
class CameraAdmin(SectorFromPointAdmin):
    list_display = ("name", "code", "sector", "target_fps", "sensitive", "enabled", "online",
                    "last_frame_at", "measured_fps")
    list_filter = ("enabled", "online", "sensitive", "sector")
    search_fields = ("name", "code")
    readonly_fields = ("online", "last_frame_at", "measured_fps")
    exclude = ("h3",)

    def has_delete_permission(self, request, obj=None):
        return False  # alerts and statistics refer to cameras: take them out of service
