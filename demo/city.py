"""The demo city, Dijon: its boundary, a dozen quartiers, agencies and one user per role.

The outline and quartiers are simplified for a demonstration (a polygon around the commune, the
quartiers as Voronoi cells around their real centres), not a cadastral survey.
Loading is idempotent: what exists is left as it is.
"""

from shapely.geometry import MultiPoint, Polygon, mapping
from shapely.ops import voronoi_diagram

from controlroom import services

DEMO_PASSWORD = "demo-dijon"
DEMO_ACTOR = "system:demo"

# (lon, lat), clockwise around the commune.
DIJON_OUTLINE = [
    (4.9860, 47.3105), (4.9920, 47.3290), (5.0060, 47.3440), (5.0270, 47.3560),
    (5.0540, 47.3625), (5.0760, 47.3535), (5.0870, 47.3360), (5.0830, 47.3120),
    (5.0660, 47.2960), (5.0410, 47.2905), (5.0110, 47.2950), (4.9930, 47.3010),
]

# code, name, centre (lon, lat)
QUARTIERS = [
    ("centre-ville", "Centre-ville", (5.0415, 47.3220)),
    ("toison-dor", "Toison d'Or", (5.0560, 47.3500)),
    ("gresilles", "Grésilles", (5.0640, 47.3340)),
    ("universite", "Université", (5.0690, 47.3130)),
    ("fontaine-douche", "Fontaine d'Ouche", (5.0030, 47.3160)),
    ("montchapet", "Montchapet", (5.0230, 47.3360)),
    ("maladiere", "Maladière – Drapeau – Clemenceau", (5.0520, 47.3300)),
    ("chevreul-parc", "Chevreul – Parc", (5.0490, 47.3040)),
    ("bourroches", "Bourroches – Port du Canal – Valendons", (5.0210, 47.3040)),
    ("faubourg-raines", "Faubourg Raines – Jean-Jaurès", (5.0330, 47.3130)),
    ("victor-hugo", "Victor Hugo", (5.0300, 47.3260)),
    ("varennes-joffre", "Varennes – Joffre", (5.0400, 47.3420)),
]

AGENCIES = [
    ("pm-dijon", "Police municipale de Dijon", "municipal_police", True),
    ("pn-dijon", "Police nationale — commissariat de Dijon", "national_police", False),
    ("sdis21", "SDIS 21 — sapeurs-pompiers de Côte-d'Or", "fire", False),
    ("samu21", "SAMU 21 — CHU Dijon Bourgogne", "health", False),
    ("divia", "Divia Mobilités — réseau de transport", "transport", False),
    ("dijon-st", "Services techniques de la Ville de Dijon", "city_services", False),
]

# username, role, agency code, first name, last name
USERS = [
    ("operateur", "operator", "pm-dijon", "Camille", "Martin"),
    ("operateur2", "operator", "pm-dijon", "Lucas", "Bernard"),
    ("superviseur", "supervisor", "pm-dijon", "Nadia", "Moreau"),
    ("liaison.pn", "agency_liaison", "pn-dijon", "Julien", "Petit"),
    ("liaison.sdis", "agency_liaison", "sdis21", "Sophie", "Garnier"),
    ("liaison.samu", "agency_liaison", "samu21", "Thomas", "Roux"),
    ("admin", "administrator", "pm-dijon", "Claire", "Lefèvre"),
    ("analyste", "analyst", "pm-dijon", "Inès", "Fontaine"),
]


def _geojson(geometry) -> dict:
    data = mapping(geometry)
    return {"type": data["type"], "coordinates": _lists(data["coordinates"])}


def _lists(value):
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], float):
            return [round(v, 6) for v in value]
        return [_lists(v) for v in value]
    return value


def quartier_polygons() -> dict[str, dict]:
    outline = Polygon(DIJON_OUTLINE)
    seeds = MultiPoint([centre for _, _, centre in QUARTIERS])
    cells = voronoi_diagram(seeds, envelope=outline.buffer(0.05))
    polygons = {}
    for code, _name, centre in QUARTIERS:
        cell = next(c for c in cells.geoms if c.contains(MultiPoint([centre]).geoms[0]))
        polygons[code] = _geojson(cell.intersection(outline))
    return polygons


def load(context: dict) -> None:
    agencies = {
        code: services.agency_ensure(
            code=code, name=name, kind=kind, operates_control_room=own, by=DEMO_ACTOR
        )
        for code, name, kind, own in AGENCIES
    }
    city = services.city_ensure(
        name="Dijon", insee_code="21231", boundary=_geojson(Polygon(DIJON_OUTLINE)), by=DEMO_ACTOR
    )
    polygons = quartier_polygons()
    sectors = {
        code: services.sector_ensure(
            city=city, code=code, name=name, geometry=polygons[code], by=DEMO_ACTOR
        )
        for code, name, _centre in QUARTIERS
    }
    users = {
        username: services.user_ensure(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            agency=agencies[agency],
            first_name=first,
            last_name=last,
            by=DEMO_ACTOR,
        )
        for username, role, agency, first, last in USERS
    }
    context.update(city=city, agencies=agencies, sectors=sectors, users=users)
    context.setdefault("logins", []).extend(
        (username, DEMO_PASSWORD, role) for username, role, *_ in USERS
    )
