"""The console's incident pages: the replay of the journal, after-action reports, the crisis
room and exercises."""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from console.views.console import _console_context
from controlroom import events
from controlroom.drawlocal import draw_local
from controlroom.errors import form_add_errors
from controlroom.models import Agency, Event, Sector
from incidents import selectors
from incidents.models import Crisis, Drawing, Exercise, Incident, Task


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
        "eventTypes": events.labels(),
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

    if not request.user.has_perm("incidents.view_replay"):
        raise PermissionDenied(_("Les comptes rendus sont réservés aux superviseurs."))
    incident = get_object_or_404(Incident.objects.select_related("category", "sector"), pk=pk)
    report = reports.incident_report(incident)
    labels = events.labels()
    for row in report["timeline"]:
        row["label"] = labels.get(row["event"].type, row["event"].type)
    return report


@never_cache
@login_required
def incident_report(request, pk: int):
    """The after-action report of an incident, printable."""
    return render(request, "console/incident_report.html", _report(request, pk))


def _pdf(request, template: str, context: dict, filename: str) -> HttpResponse:
    """A report page rendered to PDF here (WeasyPrint; nothing is fetched)."""
    try:
        from weasyprint import HTML
    except OSError:  # Pango missing on this server
        return HttpResponse(_("Le PDF n'est pas disponible sur ce serveur (Pango manque) : "
                              "imprimez la page du compte rendu."), status=503,
                            content_type="text/plain; charset=utf-8")
    html = render_to_string(template, {**context, "pdf": True}, request=request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@login_required
def incident_report_pdf(request, pk: int):
    """The same report as a PDF download."""
    report = _report(request, pk)
    return _pdf(request, "console/incident_report.html", report,
                f"compte-rendu-{report['incident'].reference}.pdf")


# --- the crisis room ----------------------------------------------------------------------------
class CrisisForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=Crisis.Kind.choices)
    title = forms.CharField(label=gettext_lazy("Titre"), max_length=200)
    sector = forms.ModelChoiceField(label=gettext_lazy("Zone (secteur)"), required=False,
                                    queryset=Sector.objects.order_by("name"),
                                    empty_label=gettext_lazy("Toute la commune"))
    incidents = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Incidents liés"), required=False,
        queryset=Incident.objects.filter(status__in=Incident.OPEN_STATUSES).order_by("-pk"),
        widget=forms.CheckboxSelectMultiple)
    agencies = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Agences invitées"), required=False,
        queryset=Agency.objects.filter(operates_control_room=False).order_by("name"),
        widget=forms.CheckboxSelectMultiple)


@never_cache
@login_required
def crises(request):
    """The crises one takes part in; supervisors open one here."""
    from incidents.services import crises as services

    if not request.user.has_perm("incidents.view_incident"):
        raise PermissionDenied(_("Réservé au personnel et aux agences associées."))
    may_open = request.user.has_perm("incidents.manage_crisis")
    form = CrisisForm(request.POST or None) if may_open else None
    if request.method == "POST":
        if not may_open:
            raise PermissionDenied(_("Seul un superviseur ouvre une crise."))
        if form.is_valid():
            data = form.cleaned_data
            try:
                crisis = services.crisis_open(
                    by=request.user, kind=data["kind"], title=data["title"],
                    area=data["sector"].geometry if data["sector"] else None,
                    incidents=data["incidents"], agencies=data["agencies"])
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                return redirect("crisis-room", crisis.pk)
    return render(request, "console/crises.html", {
        "crises": selectors.crises_visible_to(request.user)[:100], "form": form})


@never_cache
@login_required
def crisis_room(request, pk: int):
    from incidents.services.crises import may_take_part

    crisis = get_object_or_404(selectors.crises_visible_to(request.user), pk=pk)
    if not may_take_part(request.user, crisis):
        raise PermissionDenied(_("Vous ne participez pas à cette crise."))
    user = request.user
    config = {
        "crisis": crisis.pk, "user": user.get_username(),
        "agency": user.agency_id, "mayManage": user.has_perm("incidents.manage_crisis"),
        "apiUrl": f"/api/crises/{crisis.pk}/",
        "center": settings.LEAFLET_CONFIG["DEFAULT_CENTER"],
        "zoom": settings.LEAFLET_CONFIG["DEFAULT_ZOOM"],
        "drawLocal": draw_local(),
        "labels": {
            "drawingKinds": dict(Drawing.Kind.choices), "taskStatus": dict(Task.Status.choices),
            "taskKinds": dict(Task.Kind.choices), "correct": _("Corriger"),
            "correctionOf": _("Correction de l'entrée de %(time)s"),
            "chooseKind": _("Type du tracé :"), "labelPrompt": _("Libellé (facultatif) :"),
            "closed": _("Crise close : la salle est en lecture seule."),
            "incidentStatus": dict(Incident.Status.choices),
            "figures": _("%(incidents_open)s/%(incidents)s incidents ouverts · %(units_engaged)s "
                         "unités engagées · %(alerts_in_area)s alertes dans la zone · "
                         "%(population_alerts)s alertes à la population · %(tasks_open)s/"
                         "%(tasks)s tâches en cours"),
            "states": {"connecting": _("connexion…"), "connected": _("connecté"),
                       "reconnecting": _("reconnexion…"), "filling": _("rattrapage…"),
                       "closed": _("déconnecté")},
        },
    }
    return render(request, "console/crisis_room.html", {
        "crisis": crisis, "crisis_config": config, "tiles_url": settings.LEAFLET_CONFIG["TILES"],
        "drawing_kinds": Drawing.Kind.choices, "task_kinds": Task.Kind.choices,
        "agencies": crisis.agencies.order_by("name"),
        "other_agencies": Agency.objects.filter(operates_control_room=False).exclude(
            crises=crisis).order_by("name"),
    })


def _crisis_report(request, pk: int) -> dict:
    from incidents import reports

    if not request.user.has_perm("incidents.view_replay"):
        raise PermissionDenied(_("Les comptes rendus sont réservés aux superviseurs."))
    crisis = get_object_or_404(Crisis, pk=pk)
    return reports.crisis_report(crisis)


@never_cache
@login_required
def crisis_report(request, pk: int):
    return render(request, "console/crisis_report.html", _crisis_report(request, pk))


@never_cache
@login_required
def crisis_report_pdf(request, pk: int):
    report = _crisis_report(request, pk)
    return _pdf(request, "console/crisis_report.html", report,
                f"compte-rendu-crise-{report['crisis'].pk}.pdf")


# --- exercises ----------------------------------------------------------------------------------
class ExerciseForm(forms.Form):
    scenario = forms.ChoiceField(label=gettext_lazy("Scénario"))
    speed = forms.FloatField(label=gettext_lazy("Vitesse (1 = temps réel)"), min_value=0.1,
                             max_value=60, initial=1)

    def __init__(self, *args, **kwargs):
        from incidents import scenarios

        super().__init__(*args, **kwargs)
        choices = []
        for code in scenarios.available():
            try:
                choices.append((code, scenarios.load(code).name))
            except scenarios.ScenarioError:
                continue
        self.fields["scenario"].choices = choices


def _trainer(request):
    if not request.user.has_perm("incidents.run_exercise"):
        raise PermissionDenied(_("Les exercices sont conduits par les formateurs (superviseurs)."))


@never_cache
@login_required
def exercises(request):
    """Exercises past and running; a trainer starts one here."""
    from incidents.services import exercises as services

    _trainer(request)
    form = ExerciseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            exercise = services.exercise_start(by=request.user,
                                               scenario=form.cleaned_data["scenario"],
                                               speed=form.cleaned_data["speed"])
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            return redirect("exercise", exercise.pk)
    return render(request, "console/exercises.html", {
        "exercises": Exercise.objects.all()[:50], "form": form})


@never_cache
@login_required
def exercise(request, pk: int):
    """The trainer's view: what was played, and how the trainees did against the procedures."""
    from incidents.services import exercises as services

    _trainer(request)
    exercise = get_object_or_404(Exercise, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "finish" and exercise.is_running:
            services.exercise_finish(exercise=exercise, by=request.user)
        elif action == "purge" and exercise.status == Exercise.Status.FINISHED:
            services.exercise_purge(exercise=exercise, by=request.user)
        elif action == "advance" and exercise.is_running:
            services.exercise_advance(exercise=exercise)
        return redirect("exercise", exercise.pk)
    return render(request, "console/exercise.html", services.exercise_scores(exercise))
