from django.urls import path

from video import views

app_name = "video"

urlpatterns = [
    path("video/cameras/<int:pk>/direct/", views.camera_live, name="camera-live"),
    path("video/cameras/<int:pk>/image.jpg", views.camera_frame, name="camera-frame"),
    path("video/ecrans/<slug:code>/", views.screen_page, name="screen"),
    path("video/ecrans/<slug:code>/image.jpg", views.screen_frame, name="screen-frame"),
    path("video/preuves/<int:pk>.jpg", views.snapshot_image, name="snapshot"),
]
