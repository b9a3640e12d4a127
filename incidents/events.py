"""The journal event types the incidents app records, and how replay applies each."""

from django.utils.translation import gettext_lazy as _

from controlroom.events import NOT_REPLAYED, register, register_configured

APP = "incidents"

ALERT_FIELDS = ("alert", "source", "category", "severity", "title", "lat", "lon", "sector",
                "status", "repeat_count", "source_count")
INCIDENT_FIELDS = ("incident", "reference")
UNIT_FIELDS = ("unit", "call_sign", "kind", "status", "lat", "lon")
CRISIS_FIELDS = ("crisis", "title")
EXERCISE_FIELDS = ("exercise", "name")


def declare() -> None:
    from incidents import replay
    from incidents.models import Category, PartnerSystem

    def add(type, label, replay=NOT_REPLAYED, fields=()):
        register(type, app=APP, label=label, replay=replay, fields=fields)

    for type, label in (
        ("alert.received", _("Alerte reçue")), ("alert.repeated", _("Alerte répétée")),
        ("alert.located", _("Alerte localisée")), ("alert.acknowledged", _("Alerte acquittée")),
        ("alert.dismissed", _("Alerte écartée")), ("alert.attached", _("Alerte rattachée")),
        ("alert.escalated", _("Alerte remontée")), ("alert.resolved", _("Alerte résolue")),
        ("alert.grouped", _("Source ajoutée à l'alerte")),
    ):
        add(type, label, replay.apply_alert, ALERT_FIELDS)

    for type, label, reducer in (
        ("incident.created", _("Incident créé"), replay.apply_incident),
        ("incident.updated", _("Incident modifié"), replay.apply_incident),
        ("incident.status_changed", _("Changement d'état"), replay.apply_incident),
        ("incident.note_added", _("Note"), NOT_REPLAYED),
        ("incident.agency_added", _("Agence impliquée"), NOT_REPLAYED),
        ("incident.agency_notified", _("Agence prévenue"), NOT_REPLAYED),
        ("incident.alert_attached", _("Alerte rattachée"), replay.apply_incident),
        ("incident.unit_assigned", _("Unité engagée"), replay.apply_incident),
        ("incident.unit_on_scene", _("Unité sur place"), replay.apply_incident),
        ("incident.unit_released", _("Unité libérée"), replay.apply_incident),
        ("procedure.started", _("Procédure démarrée"), replay.apply_procedure),
        ("procedure.step_done", _("Étape faite"), replay.apply_procedure),
        ("procedure.step_skipped", _("Étape passée"), replay.apply_procedure),
        ("procedure.step_answered", _("Réponse"), replay.apply_procedure),
        ("procedure.step_overdue", _("Étape en retard"), NOT_REPLAYED),
        ("procedure.completed", _("Procédure terminée"), replay.apply_procedure),
        ("procedure.superseded", _("Procédure remplacée"), replay.apply_procedure),
        ("procedure.cancelled", _("Procédure annulée"), replay.apply_procedure),
    ):
        add(type, label, reducer, INCIDENT_FIELDS)

    add("unit.created", _("Unité créée"), replay.apply_unit)
    add("unit.position", _("Position d'unité"), replay.apply_unit, UNIT_FIELDS)
    add("unit.status_changed", _("État d'unité"), replay.apply_unit, UNIT_FIELDS)
    add("unit.changed", _("Unité modifiée"), replay.apply_configured)
    add("unit.deleted", _("Unité supprimée"), replay.apply_configured)
    register_configured("category", app=APP, name=Category._meta.verbose_name,
                        replay=NOT_REPLAYED)
    register_configured("partnersystem", app=APP, name=PartnerSystem._meta.verbose_name,
                        replay=NOT_REPLAYED)

    add("procedure_template.imported", _("Procédure importée"))
    add("procedure_template.created", _("Modèle de procédure créé"))
    add("procedure_template.changed", _("Modèle de procédure modifié"))
    add("procedure_template.deleted", _("Modèle de procédure supprimé"))

    for type, label in (
        ("crisis.opened", _("Crise ouverte")), ("crisis.closed", _("Crise close")),
        ("crisis.incident_linked", _("Incident rattaché à la crise")),
        ("crisis.access_granted", _("Agence invitée en cellule de crise")),
        ("crisis.access_revoked", _("Agence retirée de la cellule de crise")),
        ("crisis.drawing_saved", _("Tracé de crise enregistré")),
        ("crisis.drawing_removed", _("Tracé de crise effacé")),
        ("crisis.log_added", _("Main courante de crise")),
        ("crisis.task_added", _("Décision ou tâche ajoutée")),
        ("crisis.task_updated", _("Décision ou tâche mise à jour")),
    ):
        add(type, label, NOT_REPLAYED, CRISIS_FIELDS)

    add("exercise.started", _("Exercice lancé"), NOT_REPLAYED, EXERCISE_FIELDS)
    add("exercise.finished", _("Exercice terminé"), NOT_REPLAYED, EXERCISE_FIELDS)
    add("exercise.purged", _("Exercice purgé"), replay.apply_exercise_purged,
        (*EXERCISE_FIELDS, "removed"))
    # Demo rows added in bulk (a load test's map): replay leaves them out.
    add("demo.scaled", _("Démonstration étoffée"), NOT_REPLAYED, ("model", "count", "ids"))
