from django.urls import path

from observatory import views

app_name = "observatory"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("chiffres.json", views.figures, name="figures"),
    path("export/<slug:table>.csv", views.export, name="export"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.import_run, name="import"),
]
