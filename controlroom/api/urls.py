from django.urls import path

from controlroom.api.views import EventListView

urlpatterns = [
    path("events/", EventListView.as_view(), name="api-events"),
]
