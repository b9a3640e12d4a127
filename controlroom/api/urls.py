from django.urls import include, path

from controlroom.api.views import EventListView

urlpatterns = [
    path("events/", EventListView.as_view(), name="api-events"),
    path("", include("incidents.api.urls")),
    path("", include("devices.api.urls")),
    path("", include("video.api.urls")),
]
