from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from controlroom import console, views
from devices import views as device_views
from incidents import views as incident_views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("controlroom.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
         name="api-docs"),
    path("", views.home, name="home"),
    path("secteurs.geojson", views.sectors_geojson, name="sectors-geojson"),
    path("ville.geojson", console.city_geojson, name="city-geojson"),
    path("console/", console.console, name="console"),
    path("console/wall/", console.wall, name="console-wall"),
    path("console/replay/", incident_views.replay, name="console-replay"),
    path("incidents/<int:pk>/compte-rendu/", incident_views.incident_report,
         name="incident-report"),
    path("incidents/<int:pk>/compte-rendu.pdf", incident_views.incident_report_pdf,
         name="incident-report-pdf"),
    path("exercices/", incident_views.exercises, name="exercises"),
    path("exercices/<int:pk>/", incident_views.exercise, name="exercise"),
    path("observatoire/", include("observatory.urls")),
    path("crises/", incident_views.crises, name="crises"),
    path("crises/<int:pk>/", incident_views.crisis_room, name="crisis-room"),
    path("crises/<int:pk>/compte-rendu/", incident_views.crisis_report, name="crisis-report"),
    path("crises/<int:pk>/compte-rendu.pdf", incident_views.crisis_report_pdf,
         name="crisis-report-pdf"),
    path(
        "connexion/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("open311/", include("citizens.open311_urls")),
    path("cap/flux.atom", device_views.cap_feed, name="cap-feed"),
    path("cap/<str:identifier>.xml", device_views.cap_message, name="cap-message"),
    path("capteurs-sonores/", device_views.sound_sensors, name="sound-sensors"),
    path("", include("video.urls")),
    path("", include("citizens.urls")),
]
