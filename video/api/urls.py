from django.urls import path
from rest_framework.routers import SimpleRouter

from video.api import views

router = SimpleRouter()
router.register("cameras", views.CameraViewSet, basename="camera")
router.register("video-events", views.VideoEventViewSet, basename="video-event")
router.register("snapshots", views.SnapshotViewSet, basename="snapshot")
router.register("screens", views.ScreenViewSet, basename="screen")
router.register("screen-routings", views.RoutingViewSet, basename="screen-routing")

urlpatterns = [
    path("procedure-steps/<int:step_id>/camera/", views.StepCameraView.as_view(),
         name="step-camera"),
    *router.urls,
]
