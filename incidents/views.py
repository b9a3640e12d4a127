"""Pages of the incidents app: the replay of the journal."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
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


def _report(request, pk: int) -> dict:
    from incidents import reports
    from incidents.models import Incident

    if not request.user.has_perm("incidents.view_replay"):
        raise PermissionDenied(_("Les comptes rendus sont réservés aux superviseurs."))
    incident = get_object_or_404(Incident.objects.select_related("category", "sector"), pk=pk)
    report = reports.incident_report(incident)
    labels = {**event_labels(), **replay_event_labels()}
    for row in report["timeline"]:
        row["label"] = labels.get(row["event"].type, row["event"].type)
    return report


@never_cache
@login_required
def incident_report(request, pk: int):
    """The after-action report of an incident, printable."""
    return render(request, "incidents/report.html", _report(request, pk))


@never_cache
@login_required
def incident_report_pdf(request, pk: int):
    """The same report as a PDF download (rendered here, nothing fetched)."""
    report = _report(request, pk)
    try:
        from weasyprint import HTML
    except OSError:  # Pango missing on this server
        return HttpResponse(_("Le PDF n'est pas disponible sur ce serveur (Pango manque) : "
                              "imprimez la page du compte rendu."), status=503,
                            content_type="text/plain; charset=utf-8")
    html = render_to_string("incidents/report.html", {**report, "pdf": True}, request=request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="compte-rendu-{report["incident"].reference}.pdf"')
    return response
