from django.urls import path

from citizens import staff, views

app_name = "citizens"

urlpatterns = [
    path("signaler/", views.report_start, name="report-start"),
    path("signaler/suivi/", views.track_lookup, name="track-lookup"),
    path("signaler/suivi/<str:code>/", views.track, name="track"),
    path("signaler/envoye/<str:code>/", views.report_done, name="done"),
    path("signaler/<slug:code>/", views.report_form, name="report-form"),
    path("console/signalements/", staff.report_list, name="staff-reports"),
    path("console/signalements/<int:pk>/", staff.report_detail, name="staff-report"),
    path("console/signalements/<int:pk>/photos/<int:photo>/", staff.report_photo,
         name="staff-photo"),
]
