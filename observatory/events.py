"""The journal event types the observatory records (none changes what replay shows)."""

from django.utils.translation import gettext_lazy as _

from controlroom.events import NOT_REPLAYED, register

APP = "observatory"


def declare() -> None:
    for type, label, fields in (
        ("observatory.forecast_computed", _("Prévision calculée"), ()),
        ("observatory.import_source_saved", _("Source d'import enregistrée"),
         ("source", "name", "kind", "created")),
        ("observatory.import_queued", _("Import déposé"), ("run", "source", "file")),
        ("observatory.import_done", _("Import terminé"), ("run", "source", "file")),
        ("observatory.import_failed", _("Import en échec"), ("run", "source", "file")),
    ):
        register(type, app=APP, label=label, replay=NOT_REPLAYED, fields=fields)
