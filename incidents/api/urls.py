from django.urls import path
from rest_framework.routers import SimpleRouter

from incidents.api import crises, views

router = SimpleRouter()
router.register("categories", views.CategoryViewSet, basename="category")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("units", views.UnitViewSet, basename="unit")
router.register("procedure-runs", views.ProcedureRunViewSet, basename="procedure-run")
router.register("procedure-steps", views.StepViewSet, basename="procedure-step")
router.register("crises", crises.CrisisViewSet, basename="crisis")

urlpatterns = [
    path("layers/<slug:name>.geojson", views.LayerView.as_view(), name="map-layer"),
    path("replay/state/", views.ReplayStateView.as_view(), name="replay-state"),
    path("replay/events/", views.ReplayEventsView.as_view(), name="replay-events"),
    *router.urls,
]
