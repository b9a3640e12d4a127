from django.urls import path

from devices import views

urlpatterns = [
    path("cap/flux.atom", views.cap_feed, name="cap-feed"),
    path("cap/flux-test.atom", views.cap_test_feed, name="cap-test-feed"),
    path("alertes/<str:identifier>/", views.population_alert_page, name="population-alert-page"),
    path("cap/<str:identifier>.xml", views.cap_message, name="cap-message"),
    path("capteurs-sonores/", views.sound_sensors, name="sound-sensors"),
]
