"""The site's root URLconf: the platform's pages, the operators' pages (console, wall, replay,
crises, exercises, reports) and each app's public pages and API, composed here."""

from django.urls import include, path

from console.views import console, incidents

urlpatterns = [
    path("", include("controlroom.urls")),
    path("api/", include("incidents.api.urls")),
    path("api/", include("devices.api.urls")),
    path("api/", include("video.api.urls")),
    path("", console.home, name="home"),
    path("console/", console.console, name="console"),
    path("console/wall/", console.wall, name="console-wall"),
    path("console/replay/", incidents.replay, name="console-replay"),
    path("incidents/<int:pk>/compte-rendu/", incidents.incident_report, name="incident-report"),
    path("incidents/<int:pk>/compte-rendu.pdf", incidents.incident_report_pdf,
         name="incident-report-pdf"),
    path("exercices/", incidents.exercises, name="exercises"),
    path("exercices/<int:pk>/", incidents.exercise, name="exercise"),
    path("observatoire/", include("observatory.urls")),
    path("crises/", incidents.crises, name="crises"),
    path("crises/<int:pk>/", incidents.crisis_room, name="crisis-room"),
    path("crises/<int:pk>/compte-rendu/", incidents.crisis_report, name="crisis-report"),
    path("crises/<int:pk>/compte-rendu.pdf", incidents.crisis_report_pdf,
         name="crisis-report-pdf"),
    path("open311/", include("citizens.open311_urls")),
    path("", include("devices.urls")),
    path("", include("video.urls")),
    path("", include("citizens.urls")),
]
