"""A busy city for load tests: ``scale_up()`` tops the map up to thousands of objects.

Rows are bulk-created (one journal event per batch, ``demo.scaled``): going through the services
one object at a time would take minutes for 10,000 objects.
"""

import itertools
import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from controlroom import geo, journal
from controlroom import selectors as zones
from controlroom.models import Agency, Sector
from demo.incidents import DEMO_ACTOR, PLACES
from incidents.models import Alert, Category, Incident, Unit
from incidents.services import alerts as alert_services

# --- a busy city, for load tests ------------------------------------------------------------------
# Share of each kind of map object when the demo is scaled up.
SCALE_SHARES = {"incidents": 0.4, "alerts": 0.5, "units": 0.1}
SCALE_BATCH = 1000
SCALE_SOURCE_SYSTEM = "demo-scale"

# What the scaled objects are called, by category; the quartier's name is added to each title.
SCALE_TITLES = {
    "degradation": ["Tags sur une façade", "Abribus vandalisé", "Mobilier urbain dégradé"],
    "depot_sauvage": ["Dépôt sauvage d'encombrants", "Sacs d'ordures sur le trottoir"],
    "stationnement_genant": ["Voiture sur un passage piéton", "Voiture sur une piste cyclable"],
    "eclairage_defaillant": ["Lampadaire éteint", "Rue plongée dans le noir"],
    "obstacle_chaussee": ["Branche tombée sur la chaussée", "Barrière de chantier renversée"],
    "nuisance_sonore": ["Musique amplifiée", "Tapage nocturne"], "rixe": ["Rixe"],
    "rassemblement": ["Rassemblement sur la voie publique", "Groupe bruyant devant un commerce"],
    "ivresse": ["Personne en état d'ivresse"], "agression": ["Agression signalée"],
    "vol": ["Vol à l'arraché", "Vol de vélo en cours"], "pollution": ["Odeur suspecte"],
    "intrusion": ["Intrusion dans un local", "Alarme d'intrusion déclenchée"],
    "objet_abandonne": ["Bagage abandonné", "Colis suspect"],
    "incendie": ["Feu de poubelle", "Fumée sortant d'un immeuble"],
    "accident_circulation": ["Accrochage entre deux véhicules", "Chute d'un cycliste"],
    "inondation": ["Chaussée inondée", "Cave inondée"], "personne_au_sol": ["Personne au sol"],
    "canicule": ["Personne fragile isolée (canicule)"], "risque_industriel": ["Fuite de gaz"],
    "intrusion_zone": ["Intrusion dans une zone surveillée"], "attroupement": ["Attroupement"],
    "chute_personne": ["Chute de personne"], "bruit_suspect": ["Bruit suspect détecté"],
    "stationnement_interdit": ["Véhicule en stationnement interdit"],
    "circulation_contresens": ["Véhicule à contresens"], "autre": ["Signalement divers"],
    "panne_equipement": ["Feu tricolore en panne", "Borne escamotable bloquée"],
}
# Where alerts of each domain come from.
SCALE_SOURCES = {
    "video": ["camera"], "voie_publique": ["citizen", "operator"], "technique": ["sensor"],
    "tranquillite": ["citizen", "sound", "operator"], "securite": ["citizen", "camera", "partner"],
    "secours": ["citizen", "partner", "operator"], "population": ["sensor", "partner"],
}
# agency code, unit kind, call sign prefix
SCALE_UNITS = [
    ("pm-dijon", "patrol_car", "PM-V"), ("pm-dijon", "foot_patrol", "PM-PED"),
    ("pm-dijon", "bike_patrol", "PM-VTT"), ("pm-dijon", "motorbike", "PM-MOTO"),
    ("pn-dijon", "patrol_car", "PN"), ("sdis21", "fire_engine", "SDIS-FPT"),
    ("sdis21", "ambulance", "SDIS-VSAV"), ("samu21", "ambulance", "SAMU"),
    ("dijon-st", "technical_team", "ST"), ("dijon-st", "tow_truck", "FOURRIERE"),
]
# Minor categories are reported far more often than serious ones.
SCALE_WEIGHT_BY_PRIORITY = {1: 1, 2: 2, 3: 5, 4: 5}


def map_object_counts() -> dict[str, int]:
    """What the map layers show: open (or resolved) incidents, open alerts, placed units."""
    return {
        "incidents": Incident.objects.filter(
            status__in=[*Incident.OPEN_STATUSES, Incident.Status.RESOLVED]).count(),
        "alerts": Alert.objects.filter(status__in=Alert.OPEN_STATUSES).count(),
        "units": Unit.objects.filter(active=True, lat__isnull=False).count(),
    }


class _Scatter:
    """Random points inside the city, half of them around its busy places, with their sector."""

    def __init__(self, rng: random.Random):
        city = zones.city_current()
        if city is None:
            raise ValueError("The demo city must be loaded before it is scaled up.")
        self.rng, self.places = rng, list(PLACES.values())
        self.city = geo.PreparedArea(city.boundary)
        self.bounds = self.city.geometry.bounds
        self.sectors = [(s, geo.PreparedArea(s.geometry)) for s in city.sectors.order_by("pk")]

    def point(self) -> tuple[float, float, Sector | None]:
        rng, (west, south, east, north) = self.rng, self.bounds
        while True:
            if rng.random() < 0.5:
                lat, lon = rng.choice(self.places)
                lat, lon = rng.gauss(lat, 0.006), rng.gauss(lon, 0.009)  # about 650 m
            else:
                lat, lon = rng.uniform(south, north), rng.uniform(west, east)
            lat, lon = round(lat, 6), round(lon, 6)
            if self.city.contains(lat, lon):
                sector = next((s for s, area in self.sectors if area.contains(lat, lon)), None)
                return lat, lon, sector


def _id_runs(ids: list[int]) -> list[list[int]]:
    """[[first, last], …] runs of consecutive ids: short, and exact even if ids are not."""
    runs: list[list[int]] = []
    for pk in sorted(ids):
        if runs and pk == runs[-1][1] + 1:
            runs[-1][1] = pk
        else:
            runs.append([pk, pk])
    return runs


def _scaled_title(rng, category: Category, sector) -> str:
    phrase = rng.choice(SCALE_TITLES.get(category.code) or [category.label])
    return f"{phrase} — {sector.name if sector else 'Dijon'}"


def _new_incident(rng, scatter, categories, weights, now) -> Incident:
    category = rng.choices(categories, weights)[0]
    lat, lon, sector = scatter.point()
    created = now - timedelta(minutes=rng.uniform(1, 8 * 60))
    acknowledged = rng.random() < 0.5
    incident = Incident(
        category=category, priority=category.default_priority, sector=sector,
        title=_scaled_title(rng, category, sector), created_at=created,
        status=Incident.Status.ACKNOWLEDGED if acknowledged else Incident.Status.NEW,
        status_changed_at=created + timedelta(minutes=2) if acknowledged else created,
        acknowledged_at=created + timedelta(minutes=2) if acknowledged else None,
    )
    incident.set_point(lat, lon)
    return incident


def _new_alert(rng, scatter, categories, weights, now, number) -> Alert:
    category = rng.choices(categories, weights)[0]
    lat, lon, sector = scatter.point()
    received = now - timedelta(minutes=rng.uniform(0.5, 3 * 60))
    acknowledged = rng.random() < 0.2
    alert = Alert(
        source=rng.choice(SCALE_SOURCES.get(category.domain, ["operator"])),
        source_system=SCALE_SOURCE_SYSTEM, source_ref=f"scale-{number}", category=category,
        severity=category.default_priority, title=_scaled_title(rng, category, sector),
        sector=sector, occurred_at=received - timedelta(seconds=rng.uniform(0, 120)),
        received_at=received, last_seen_at=received,
        status=Alert.Status.ACKNOWLEDGED if acknowledged else Alert.Status.NEW,
        acknowledged_at=received + timedelta(seconds=45) if acknowledged else None,
        ack_delay_seconds=45.0 if acknowledged else None,
    )
    # As the escalation task would have done by now; otherwise it would journal thousands of
    # escalations in the minutes after loading.
    overdue = received + alert_services.escalation_delay()
    if not acknowledged and overdue < now:
        alert.escalated_at = overdue
    alert.set_point(lat, lon)
    return alert


def _new_unit(rng, scatter, agency, kind, call_sign, now) -> Unit:
    lat, lon, _sector = scatter.point()
    status = Unit.Status.UNAVAILABLE if rng.random() < 0.1 else Unit.Status.AVAILABLE
    unit = Unit(call_sign=call_sign, kind=kind, agency=agency, status=status,
                position_at=now - timedelta(seconds=rng.uniform(5, 600)), status_changed_at=now)
    unit.set_point(lat, lon)
    return unit


def _store(model, rows: list, target: int, agencies=()) -> int:
    """One batch: its rows and the one journal event that records them."""
    with transaction.atomic():
        ids = [row.pk for row in model.objects.bulk_create(rows)]
        if model is Incident:
            own = Agency.objects.filter(operates_control_room=True).values_list("pk", flat=True)
            Incident.agencies.through.objects.bulk_create(
                Incident.agencies.through(incident_id=pk, agency_id=agency)
                for agency in own for pk in ids  # one query: the outer iterable is read once
            )
        journal.record(
            type="demo.scaled", actor=DEMO_ACTOR, agencies=agencies,
            payload={"model": model._meta.label_lower, "count": len(ids), "ids": _id_runs(ids),
                     "target": target},
        )
    return len(ids)


def _add(model, make, count: int, target: int) -> int:
    added = 0
    for start in range(0, count, SCALE_BATCH):
        rows = [make() for _ in range(min(SCALE_BATCH, count - start))]
        agencies = {row.agency_id for row in rows} if model is Unit else ()
        added += _store(model, rows, target, agencies)
    return added


def scale_up(*, target: int) -> dict:
    """Top the map up to about ``target`` objects (40 % incidents, 50 % open alerts, 10 % units).

    Counts what the map already shows and adds only the difference, so running it again adds
    nothing. Rows are bulk-created, a thousand at a time, each batch with one ``demo.scaled``
    journal event: creating them one by one through the services (an event each, a procedure
    per incident) takes several minutes for 10,000 objects. Scaled incidents start no procedure
    and scaled units do not drive their rounds.
    """
    before = map_object_counts()
    wanted = {kind: round(max(target, 0) * share) for kind, share in SCALE_SHARES.items()}
    wanted["alerts"] = max(target, 0) - wanted["incidents"] - wanted["units"]
    missing = {kind: max(0, wanted[kind] - before[kind]) for kind in SCALE_SHARES}
    rng = random.Random(f"{target}:{sorted(before.items())}")
    scatter, now = _Scatter(rng), timezone.now()
    categories = list(Category.objects.filter(active=True).order_by("code"))
    weights = [SCALE_WEIGHT_BY_PRIORITY.get(c.default_priority, 1) for c in categories]
    added = dict.fromkeys(SCALE_SHARES, 0)
    added["incidents"] = _add(
        Incident, lambda: _new_incident(rng, scatter, categories, weights, now),
        missing["incidents"], target)
    taken = set(Alert.objects.filter(source_system=SCALE_SOURCE_SYSTEM)
                .values_list("source_ref", flat=True))
    numbers = (n for n in itertools.count(1) if f"scale-{n}" not in taken)
    added["alerts"] = _add(
        Alert, lambda: _new_alert(rng, scatter, categories, weights, now, next(numbers)),
        missing["alerts"], target)
    agencies = {a.code: a for a in Agency.objects.filter(code__in={c for c, *_ in SCALE_UNITS})}
    mix = [(agencies[code], kind, prefix) for code, kind, prefix in SCALE_UNITS if code in agencies]
    taken = set(Unit.objects.values_list("call_sign", flat=True))
    signs = ((agency, kind, f"{prefix}-{n:04d}") for n in itertools.count(100)
             for agency, kind, prefix in mix if f"{prefix}-{n:04d}" not in taken)
    if mix:
        added["units"] = _add(Unit, lambda: _new_unit(rng, scatter, *next(signs), now),
                              missing["units"], target)
    return {"target": target, "before": before, "added": added, "after": map_object_counts()}
