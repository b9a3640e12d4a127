from django.urls import path
from rest_framework.routers import SimpleRouter

from devices.api import views

router = SimpleRouter()
router.register("devices", views.DeviceViewSet, basename="device")
router.register("device-commands", views.CommandViewSet, basename="device-command")
router.register("population-alerts", views.PopulationAlertViewSet, basename="population-alert")
router.register("sound-sensors", views.SoundSensorViewSet, basename="sound-sensor")
router.register("sound-events", views.SoundEventViewSet, basename="sound-event")
router.register("sound-locations", views.SoundLocationViewSet, basename="sound-location")
router.register("device-command-groups", views.CommandGroupViewSet, basename="device-command-group")

urlpatterns = [
    path("procedure-steps/<int:step_id>/device-proposal/", views.StepProposalView.as_view(),
         name="step-device-proposal"),
    *router.urls,
]
