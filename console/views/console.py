"""The operator console and its wall view: server-rendered pages that the console scripts fill.

Data come from the API and the live journal stream; these views only check access and hand the
page what it needs to start (labels, reasons, links), never business data.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from controlroom import events, selectors
from controlroom.located import Level
from devices.services.sound import LABELS as sound_labels_lazy
from incidents.selectors import crises_visible_to
from video.catalogue import rule_labels


def _console_context(request) -> dict:
    from citizens.models import Report
    from devices.models import Command
    from incidents.models import Alert, Incident, StepRun, Unit
    from incidents.models.procedures import StepKind

    if not selectors.viewer_for(request.user).may_watch:
        raise PermissionDenied(_("La console est réservée au personnel du poste de pilotage."))
    from incidents.models import Exercise

    user = request.user
    running = list(Exercise.objects.filter(status=Exercise.Status.RUNNING))
    return {
        "exercises_running": running,
        "tiles_url": settings.LEAFLET_CONFIG["TILES"],
        "basemap_url": basemap_url(),
        "console_config": {
            "exercises": [{"id": e.pk, "name": e.name} for e in running],
            "user": user.get_username(),
            "mayHandleAlerts": user.has_perm("incidents.change_alert"),
            "mayDispatch": user.has_perm("incidents.dispatch_unit"),
            "mayChangeIncidents": user.has_perm("incidents.change_incident"),
            "mayRunProcedures": user.has_perm("incidents.change_procedurerun"),
            "maySkipMandatory": user.has_perm("incidents.skip_mandatory_step"),
            "mayCommandDevices": user.has_perm("devices.command_device"),
            "mayApproveCommands": user.has_perm("devices.approve_command"),
            "mayDraftAlerts": user.has_perm("devices.add_populationalert"),
            "mayIssueAlerts": user.has_perm("devices.issue_populationalert"),
            "mayViewCameras": user.has_perm("video.view_camera"),
            "mayViewLive": user.has_perm("video.view_live"),
            "mayRouteScreens": user.has_perm("video.route_screen"),
            "mayApproveRouting": user.has_perm("video.approve_sensitive_routing"),
            "mayUnblur": user.has_perm("video.view_unblurred"),
            "mayReplay": user.has_perm("incidents.view_replay"),
            "deviceKinds": device_kinds(),
            "deviceWords": device_words(),
            "citizenReportsUrl": (reverse("citizens:staff-reports")
                                  if user.has_perm("citizens.view_report") else ""),
            "center": settings.LEAFLET_CONFIG["DEFAULT_CENTER"],
            "zoom": settings.LEAFLET_CONFIG["DEFAULT_ZOOM"],
            "labels": {
                "states": {
                    "connecting": _("connexion…"), "connected": _("connecté"),
                    "reconnecting": _("reconnexion…"), "filling": _("rattrapage…"),
                    "closed": _("déconnecté"),
                },
                "incidentStatus": dict(Incident.Status.choices),
                "alertStatus": dict(Alert.Status.choices),
                "alertSource": dict(Alert.Source.choices),
                "unitStatus": dict(Unit.Status.choices),
                "reportStatus": dict(Report.Status.choices),
                "commandStatus": dict(Command.Status.choices),
                "online": _("en ligne"), "offline": _("hors ligne"), "send": _("Envoyer"),
                "sensitive": _("sensible"), "videoRules": rule_labels(),
                "liveView": _("Voir le direct"), "showOnScreen": _("Afficher sur l'écran"),
                "routed": _("Affichée"), "routingRequested": _("Demande envoyée au superviseur"),
                "routingReason": _("Caméra sensible : motif de l'affichage (un superviseur "
                                   "doit l'accorder) :"),
                "evidence": _("Image de preuve"),
                "sound": {
                    "kinds": {kind: str(text) for kind, text in sound_labels().items()},
                    "confidence": _("confiance"),
                    "located": _("Localisé par %(count)s capteurs à ±%(radius)s m"),
                    "echoes": _("%(count)s arrivée(s) écartée(s) (échos)"),
                },
                "nearCameras": _("Caméras à proximité"),
                "unblur": _("Voir sans floutage"),
                "unblurReason": _("Motif de la consultation de l'image non floutée (inscrit au "
                                  "journal) :"),
                "unblurredNotice": _("Image non floutée : consultation inscrite au journal."),
                "action": _("Action"), "lastCommand": _("Dernière commande"),
                "approve": _("Approuver"), "reject": _("Refuser"),
                "rejectReason": _("Motif du refus :"),
                "routingRefusedNotice": _("Affichage refusé : %(camera)s sur %(screen)s, par "
                                          "%(who)s. Motif : « %(reason)s »."),
                "proposeDevices": _("Proposer les équipements"),
                "confirmDevices": _("Envoyer aux %(count)s équipements"),
                "noDevice": _("Aucun équipement de ce type à proximité."),
                "needsApproval": _("approbation d'un superviseur requise"),
                "draftAlert": _("Rédiger l'alerte"), "issue": _("Diffuser"),
                "confirmIssue": _("Diffuser maintenant l'alerte à la population « %(headline)s » ? "
                                  "Panneaux, sirènes et notifications de la zone seront "
                                  "déclenchés."),
                "cancel": _("Annuler"), "notNow": _("Pas maintenant"),
                "draftedBy": _("Rédigée par"),
                "capSeverity": {"Extreme": _("extrême"), "Severe": _("grave"),
                                "Moderate": _("modérée"), "Minor": _("mineure"),
                                "Unknown": _("inconnue")},
                "requestedBy": _("Demandée par"), "system": _("le système"),
                "requestReason": _("Motif de la demande"),
                "requestReasonLabel": _("Motif (obligatoire : un superviseur doit approuver)"),
                "reasonRequired": _("Indiquez le motif."),
                "confirmReason": _("Valider"),
                "refusedNotice": _("Commande refusée : %(device)s — %(action)s, par %(who)s. "
                                   "Motif : « %(reason)s »."),
                "alertFields": {
                    "event": _("Événement"), "headline": _("Titre (panneaux, notifications)"),
                    "description": _("Description"), "instruction": _("Consignes"),
                    "severity": _("Gravité"), "urgency": _("Urgence"),
                    "certainty": _("Certitude"), "hours": _("Validité (heures)"),
                    "siren": _("Déclencher les sirènes de la zone"), "area": _("Zone"),
                    "submit": _("Enregistrer l'alerte"),
                },
                "unitKind": dict(Unit.Kind.choices),
                "dismissReasons": dict(Alert.DismissReason.choices),
                "stepKinds": dict(StepKind.choices),
                "stepStatus": dict(StepRun.Status.choices),
                "transitions": {
                    "acknowledged": _("Prendre en compte"), "dispatched": _("Moyens engagés"),
                    "on_scene": _("Sur place"), "resolved": _("Résolu"), "closed": _("Clore"),
                    "cancelled": _("Annuler"),
                },
                "eventTypes": events.labels(),
                "layerNames": {
                    "sectors": _("Secteurs"), "incidents": _("Incidents"),
                    "alerts": _("Alertes en attente"), "units": _("Unités"),
                    "reports": _("Signalements citoyens"), "devices": _("Équipements"),
                    "cameras": _("Caméras"),
                },
                "legend": {
                    "title": _("Légende"), "priority": _("Priorité (incidents, alertes)"),
                    "levels": dict(Level.choices), "units": _("Unités"),
                    "unitStatus": dict(Unit.Status.choices),
                    "reports": _("Signalement citoyen"), "devices": _("Équipement"),
                    "cameras": _("Caméra"),
                    "clusters": _("Un groupe prend la couleur de la priorité la plus grave "
                                  "qu'il contient."),
                },
                "citizenReports": _("Signalements et photos"),
                "open": _("Ouvrir"), "close": _("Fermer"), "acknowledge": _("Acquitter"),
                "openIncident": _("Ouvrir un incident"), "attach": _("Rattacher"),
                "dismiss": _("Écarter"), "note": _("Précision"), "escalated": _("remontée"),
                "sourceCount": _("%(count)s sources"),
                "noProcedure": _("Aucune procédure pour cette catégorie."),
                "yes": _("Oui"), "no": _("Non"), "done": _("Fait"), "skip": _("Passer"),
                "before": _("avant"), "overdue": _("en retard"), "eta": _("arrivée"),
                "units": _("Unités"), "noUnit": _("Aucune unité engagée."),
                "suggested": _("Unités proposées"), "assign": _("Engager"),
                "steps": {
                    "notDone": _("Non fait…"),
                    "notDoneReason": _("Pourquoi cette étape n'est-elle pas faite ? (inscrit "
                                       "au journal et au compte rendu)"),
                    "withoutAction": _("Sans action"),
                    "searchUnit": _("Chercher une unité (indicatif, type, agence)"),
                    "search": _("Chercher"),
                    "noUnitFound": _("Aucune unité disponible ne correspond."),
                    "noUnitOfKind": _("Aucune unité de ce type disponible : cherchez-en une "
                                      "autre."),
                    "showCamera": _("Afficher %(name)s"),
                },
                "notePlaceholder": _("Note pour la main courante…"), "addNote": _("Ajouter la note"),
                "timeline": _("Chronologie"),
                "report": _("Compte rendu"), "replay": _("Rejouer"),
                "exercise": _("EXERCICE"),
                "exerciseBanner": _("EXERCICE — incident fictif : aucune action réelle"),
                "reasonPrompt": _("Motif :"),
                "more": _("… et %(count)s autres"),
            },
        },
    }


def basemap_url() -> str:
    """The local street plan drawn when there is no tile server ("" with tiles, or none)."""
    value = settings.MAP_BASEMAP_URL
    if settings.LEAFLET_CONFIG["TILES"] or not value:
        return ""
    if value.startswith(("/", "http://", "https://")):
        return value
    return static(value)


def sound_labels() -> dict:
    return dict(sound_labels_lazy)


@never_cache
@login_required
def console(request):
    return render(request, "console/console.html", _console_context(request))


@never_cache
@login_required
def wall(request):
    return render(request, "console/wall.html", _console_context(request))


def device_words() -> dict:
    """Words for the states devices report and for coded values, in the page's language."""
    from devices import capabilities

    return {"state": {key: _(text) for key, text in capabilities.STATE_LABELS.items()},
            "values": {key: _(text) for key, text in capabilities.VALUE_LABELS.items()}}


def device_kinds() -> dict:
    """What each kind of device can do, for the console's command form."""
    from dataclasses import asdict

    from devices import capabilities

    def param(kind, action, name, spec) -> dict:
        data = {key: value for key, value in asdict(spec).items() if key != "required"}
        data["label"] = _(spec.label)
        data["choiceLabels"] = {
            choice: _(capabilities.CHOICE_LABELS[choice])
            if choice in capabilities.CHOICE_LABELS else choice
            for choice in spec.choices}
        rule = capabilities.CRITICAL_PARAMS.get((kind, action))
        data["criticalValues"] = sorted(rule[1]) if rule and rule[0] == name else []
        return data

    return {
        code: {
            "label": _(kind.label),
            "actions": {
                name: {"label": _(action.label), "critical": action.critical,
                       "params": {p: param(code, name, p, spec)
                                  for p, spec in action.params.items()}}
                for name, action in kind.actions.items()
            },
        }
        for code, kind in capabilities.KINDS.items()
    }


@login_required
def home(request):
    viewer = selectors.viewer_for(request.user)
    crises = []
    if request.user.is_authenticated:
        crises = crises_visible_to(request.user).filter(status="open")[:10]
    return render(
        request,
        "console/home.html",
        {
            "may_watch": viewer.may_watch,
            "crises": crises,
            "city": selectors.city_current(),
            "tiles_url": settings.LEAFLET_CONFIG["TILES"],
            "live_labels": {
                "connecting": _("connexion…"),
                "connected": _("connecté"),
                "reconnecting": _("reconnexion…"),
                "filling": _("rattrapage…"),
                "closed": _("déconnecté"),
            },
        },
    )
