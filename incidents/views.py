"""Pages of the incidents app: the replay of the journal."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from controlroom.console import _console_context, event_labels
from controlroom.models import Event, Sector


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
        "eventTypes": event_labels(),
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
