"""Pages of the incidents app: the replay of the journal."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from controlroom.console import _console_context, event_labels
from controlroom.models import Event, Sector


def replay_event_labels() -> dict:
    """Names of the events the replay's timeline shows beside an incident's story."""
    return {
        "alert.received": _("Alerte reçue"), "alert.repeated": _("Alerte répétée"),
        "alert.located": _("Alerte localisée"), "alert.acknowledged": _("Alerte acquittée"),
        "alert.dismissed": _("Alerte écartée"), "alert.attached": _("Alerte rattachée"),
        "alert.escalated": _("Alerte remontée"),
        "unit.created": _("Unité créée"), "unit.position": _("Position d'unité"),
        "unit.status_changed": _("État d'unité"),
        "device.state": _("État d'équipement"), "device.offline": _("Équipement hors ligne"),
        "device.back_online": _("Équipement de retour"),
        "device.created": _("Équipement ajouté"), "camera.created": _("Caméra ajoutée"),
        "camera.online": _("Caméra en ligne"), "camera.offline": _("Caméra hors ligne"),
        "camera.live_viewed": _("Direct consulté"), "screen.routed": _("Écran affecté"),
        "citizen_report.received": _("Signalement reçu"),
        "citizen_report.status_changed": _("Signalement mis à jour"),
        "procedure_template.imported": _("Procédure importée"),
        "device_command.sent": _("Commande envoyée"),
        "population_alert.issued": _("Alerte à la population diffusée"),
    }


@never_cache
@login_required
def replay(request):
    """The replay page: the console's map and incidents as they were, instant by instant."""
    if not request.user.has_perm("incidents.view_replay"):
        raise PermissionDenied(_("Le rejeu est réservé aux superviseurs."))
    context = _console_context(request)
    bounds = Event.objects.order_by("seq").values_list("created_at", flat=True)
    first, last = bounds.first(), bounds.last()
    context["console_config"]["replay"] = {
        "stateUrl": reverse("replay-state"), "eventsUrl": reverse("replay-events"),
        "first": first.isoformat() if first else None,
        "last": last.isoformat() if last else None,
        "eventTypes": {**event_labels(), **replay_event_labels()},
        "labels": {
            "noIncident": _("Aucun incident ouvert à cet instant."),
            "screens": _("Écrans du mur"), "noScreen": _("Aucune caméra affichée."),
            "progress": _("%(done)s / %(total)s étapes"), "overdue": _("%(count)s en retard"),
            "truncated": _("Seuls les %(count)s premiers événements sont listés."),
            "play": _("Lecture"), "pause": _("Pause"), "at": _("Instant rejoué"),
        },
    }
    context["sectors"] = Sector.objects.order_by("name").values_list("pk", "name")
    context["incident"] = request.GET.get("incident", "")
    return render(request, "console/replay.html", context)
