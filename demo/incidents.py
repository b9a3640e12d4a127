"""Demo objects for Dijon: the taxonomy, procedures, units on their rounds, open incidents.

Idempotent: what exists is left as it is. Demo units drive along simplified rounds through real
places of the city; ``units_move()`` (a periodic task) advances them along their round, or toward
their incident when engaged. ``scale_up()`` tops the map up to thousands of objects for load tests.
"""

import math
from datetime import datetime

from django.utils import timezone

from controlroom import geo
from controlroom.models import Event
from incidents.models import Alert, Category, Incident, Unit
from incidents.services import alerts as alert_services
from incidents.services import incidents as incident_services
from incidents.services import units as unit_services

DEMO_ACTOR = "system:demo"

# Places along the rounds, (lat, lon).
PLACES = {
    "darcy": (47.3225, 5.0352), "liberation": (47.3214, 5.0412), "republique": (47.3268, 5.0455),
    "trente_octobre": (47.3206, 5.0510), "wilson": (47.3143, 5.0452), "gare": (47.3233, 5.0272),
    "jaures": (47.3075, 5.0325), "bourroches": (47.3045, 5.0205), "ouche": (47.3170, 5.0040),
    "montchapet": (47.3365, 5.0235), "toison": (47.3515, 5.0585), "gresilles": (47.3345, 5.0650),
    "universite": (47.3125, 5.0680), "parc": (47.3050, 5.0480), "drapeau": (47.3330, 5.0520),
    "berbisey": (47.3178, 5.0368), "victor_hugo": (47.3275, 5.0300),
}

ROUNDS = {
    "centre": ["darcy", "liberation", "republique", "trente_octobre", "wilson", "berbisey", "darcy"],
    "ouest": ["gare", "victor_hugo", "montchapet", "ouche", "bourroches", "jaures", "gare"],
    "nord-est": ["republique", "drapeau", "toison", "gresilles", "universite", "trente_octobre",
                 "republique"],
    "sud": ["wilson", "parc", "universite", "trente_octobre", "liberation", "berbisey", "jaures",
            "wilson"],
}

# call sign, kind, agency code, round (or None: stays at its base), base place
UNITS = [
    ("PM-01", "patrol_car", "pm-dijon", "centre", "darcy"),
    ("PM-02", "patrol_car", "pm-dijon", "nord-est", "drapeau"),
    ("PM-03", "patrol_car", "pm-dijon", "ouest", "gare"),
    ("PM-PED-1", "foot_patrol", "pm-dijon", "centre", "liberation"),
    ("PM-VTT-1", "bike_patrol", "pm-dijon", "sud", "wilson"),
    ("PM-VTT-2", "bike_patrol", "pm-dijon", "centre", "republique"),
    ("PM-MOTO-1", "motorbike", "pm-dijon", "nord-est", "toison"),
    ("PM-CYNO-1", "dog_unit", "pm-dijon", None, "drapeau"),
    ("PN-BAC-21", "patrol_car", "pn-dijon", "ouest", "victor_hugo"),
    ("SDIS-FPT-1", "fire_engine", "sdis21", None, "parc"),
    ("SDIS-VSAV-2", "ambulance", "sdis21", None, "montchapet"),
    ("SAMU-SMUR-1", "ambulance", "samu21", None, "universite"),
    ("ST-ECL-1", "technical_team", "dijon-st", "sud", "jaures"),
    ("FOURRIERE-1", "tow_truck", "dijon-st", None, "bourroches"),
]

# Open incidents of the demo: category, title, place, priority, description, units sent
INCIDENTS = [
    ("rassemblement", "Rassemblement nocturne bruyant place de la République", "republique", 3,
     "Une trentaine de personnes, musique forte, signalé par deux riverains.", ["PM-VTT-2"]),
    ("objet_abandonne", "Bagage abandonné hall de la gare Dijon-Ville", "gare", 2,
     "Valise noire sans propriétaire depuis 20 minutes, signalée par un agent SNCF.", ["PM-03"]),
    ("nuisance_sonore", "Musique amplifiée rue Berbisey", "berbisey", 3,
     "Bar avec terrasse, fenêtres ouvertes après 1 h.", []),
    ("accident_circulation", "Accrochage entre un bus et un véhicule léger boulevard de la Trémouille",
     "drapeau", 2, "Pas de blessé apparent, circulation ralentie.", []),
]

# Alerts waiting in the inbox: source, category, title, place, severity, dedup key, evidence
ALERTS = [
    ("camera", "attroupement", "Attroupement détecté — caméra place Darcy", "darcy", 3,
     "cam-darcy-01:attroupement", {"persons": 14, "snapshot": None}),
    ("sensor", "nuisance_sonore", "Seuil sonore dépassé — capteur rue Berbisey", "berbisey", 3,
     "sonometre-berbisey", {"laeq_db": 82.5, "threshold_db": 75}),
    ("citizen", "depot_sauvage", "Dépôt sauvage signalé — Fontaine d'Ouche", "ouche", 4, "",
     {"text": "Matelas et gravats au pied de l'immeuble."}),
    ("partner", "obstacle_chaussee", "Divia : obstacle sur la voie du tram T2", "toison", 2, "",
     {"line": "T2", "text": "Barrière de chantier renversée sur la plateforme."}),
]


def load(context: dict) -> None:
    from demo import procedures as demo_procedures

    incident_services.category_ensure_defaults()
    demo_procedures.load_demo_procedures()
    agencies = context["agencies"]
    for call_sign, kind, agency, _round, base in UNITS:
        if not Unit.objects.filter(call_sign=call_sign).exists():
            unit_services.unit_create(
                by=DEMO_ACTOR, call_sign=call_sign, kind=kind, agency=agencies[agency],
                lat=PLACES[base][0], lon=PLACES[base][1],
            )
    for code, title, place, priority, description, sent in INCIDENTS:
        if Incident.objects.filter(title=title).exists():
            continue
        incident = incident_services.incident_create(
            by=DEMO_ACTOR, category=Category.objects.get(code=code), title=title,
            lat=PLACES[place][0], lon=PLACES[place][1], priority=priority, description=description,
        )
        for call_sign in sent:
            unit = Unit.objects.get(call_sign=call_sign)
            if unit.status == Unit.Status.AVAILABLE:
                unit_services.unit_assign(incident=incident, unit=unit, by=DEMO_ACTOR)
    for number, (source, code, title, place, severity, dedup, evidence) in enumerate(ALERTS, 1):
        if Alert.objects.filter(source_system="demo", source_ref=f"demo-{number}").exists():
            continue
        alert_services.alert_receive(
            by=DEMO_ACTOR, source=source, category=Category.objects.get(code=code), title=title,
            lat=PLACES[place][0], lon=PLACES[place][1], severity=severity, dedup_key=dedup,
            evidence=evidence, source_system="demo", source_ref=f"demo-{number}",
        )


def finish(context: dict) -> None:
    """After every app's demo: top the map up to the asked scale, counting their objects too."""
    if context.get("scale"):
        from demo.scale import scale_up

        context["scaled"] = scale_up(target=context["scale"])


# --- moving the demo units ------------------------------------------------------------------------
def _round_position(round_name: str, metres: float) -> tuple[float, float]:
    points = [PLACES[name] for name in ROUNDS[round_name]]
    legs = [geo.distance_m(*a, *b) for a, b in zip(points, points[1:])]
    metres %= sum(legs)
    for (a, b), leg in zip(zip(points, points[1:]), legs):
        if metres <= leg:
            t = metres / leg if leg else 0.0
            return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
        metres -= leg
    return points[-1]


def _towards(unit: Unit, target: tuple[float, float], metres: float) -> tuple[float, float]:
    remaining = geo.distance_m(unit.lat, unit.lon, *target)
    if remaining <= metres:
        return target
    t = metres / remaining
    return unit.lat + (target[0] - unit.lat) * t, unit.lon + (target[1] - unit.lon) * t


def units_move(*, now: datetime | None = None) -> int:
    """Advance every demo unit: en route toward its incident, available along its round."""
    from incidents.dispatch import SPEED_KMH

    now = now or timezone.now()
    moved = 0
    rounds = {call_sign: (name, base) for call_sign, _k, _a, name, base in UNITS}
    # Only units the demo itself created: a real unit with a demo call sign never moves.
    created_by_demo = Event.objects.filter(
        type="unit.created", actor_label=DEMO_ACTOR, subject_app="incidents", subject_model="unit"
    ).values_list("subject_id", flat=True)
    units = Unit.objects.filter(
        call_sign__in=rounds, active=True, lat__isnull=False,
        pk__in=[int(pk) for pk in created_by_demo],
    )
    for unit in units:
        name, _base = rounds[unit.call_sign]
        elapsed = (now - unit.position_at).total_seconds() if unit.position_at else 0
        speed = SPEED_KMH.get(unit.kind, 25.0) / 3.6
        if unit.status == Unit.Status.EN_ROUTE:
            assignment = unit.assignments.filter(released_at=None).select_related("incident").first()
            if assignment is None:
                continue
            target = (assignment.incident.lat, assignment.incident.lon)
            if geo.distance_m(unit.lat, unit.lon, *target) < 20:
                unit_services.unit_status_set(unit=unit, status=Unit.Status.ON_SCENE,
                                              by=DEMO_ACTOR)
                continue
            # At half speed, so that people watching the demo see them drive.
            point = _towards(unit, target, speed * elapsed * 0.5)
        elif unit.status == Unit.Status.AVAILABLE and name:
            # Position on the round from the clock, each unit offset by its call sign.
            offset = sum(map(ord, unit.call_sign)) * 97.0
            point = _round_position(name, now.timestamp() * speed * 0.4 + offset)
        else:
            continue
        if math.isclose(point[0], unit.lat) and math.isclose(point[1], unit.lon):
            continue
        unit_services.unit_position_report(unit=unit, lat=point[0], lon=point[1], by=DEMO_ACTOR,
                                           at=now)
        moved += 1
    return moved
