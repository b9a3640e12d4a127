"""A street plan of the demo city, for maps without a tile server.

Without ``MAP_TILES_URL`` the consoles draw this local vector layer: the main streets of Dijon
and the named places the demo uses, so an operator can read the map at street level without
any download. Like the outline and quartiers (``demo/city.py``), it is simplified for a
demonstration — the main axes drawn through a few points each — not a survey; a city in service
points ``MAP_TILES_URL`` at its own tiles (see the README).

The shipped file is generated from these data: ``manage.py build_basemap`` writes
``demo/static/demo/dijon-basemap.geojson`` (a test checks it is up to date).
"""

import json
from pathlib import Path

from demo.incidents import PLACES

OUTPUT = Path(__file__).resolve().parent / "static" / "demo" / "dijon-basemap.geojson"

# name, class ("primary": boulevards and avenues, "secondary": streets, "water"), points (lat, lon)
STREETS = [
    ("Avenue Maréchal Foch", "primary", [(47.3232, 5.0283), (47.3229, 5.0315), (47.3226, 5.0351)]),
    ("Boulevard de Sévigné", "primary", [(47.3224, 5.0285), (47.3219, 5.0318), (47.3221, 5.0351)]),
    ("Rue de la Liberté", "secondary", [(47.3224, 5.0353), (47.3222, 5.0380), (47.3220, 5.0396),
                                        (47.3217, 5.0408)]),
    ("Rue des Forges", "secondary", [(47.3221, 5.0397), (47.3225, 5.0410), (47.3226, 5.0422)]),
    ("Rue de la Chouette", "secondary", [(47.3226, 5.0422), (47.3230, 5.0428)]),
    ("Rue Jean-Jacques Rousseau", "secondary", [(47.3230, 5.0428), (47.3245, 5.0437),
                                                (47.3264, 5.0450)]),
    ("Boulevard de Brosses", "primary", [(47.3227, 5.0354), (47.3243, 5.0380), (47.3255, 5.0405),
                                         (47.3266, 5.0442)]),
    ("Boulevard Thiers", "primary", [(47.3266, 5.0465), (47.3248, 5.0482), (47.3225, 5.0500),
                                     (47.3207, 5.0508)]),
    ("Boulevard Carnot", "primary", [(47.3204, 5.0503), (47.3185, 5.0490), (47.3163, 5.0472),
                                     (47.3145, 5.0454)]),
    ("Rue Chabot-Charny", "secondary", [(47.3146, 5.0448), (47.3165, 5.0437), (47.3185, 5.0427),
                                        (47.3210, 5.0416)]),
    ("Rue Berbisey", "secondary", [(47.3205, 5.0386), (47.3190, 5.0375), (47.3176, 5.0367),
                                   (47.3155, 5.0356)]),
    ("Rue Monge", "secondary", [(47.3205, 5.0372), (47.3194, 5.0352), (47.3184, 5.0336)]),
    ("Avenue Victor Hugo", "primary", [(47.3228, 5.0350), (47.3255, 5.0322), (47.3275, 5.0300),
                                       (47.3302, 5.0262)]),
    ("Rue de Montchapet", "secondary", [(47.3285, 5.0318), (47.3315, 5.0282), (47.3340, 5.0255),
                                        (47.3366, 5.0234)]),
    ("Boulevard Clemenceau", "primary", [(47.3272, 5.0462), (47.3293, 5.0484), (47.3312, 5.0502),
                                         (47.3330, 5.0520)]),
    ("Avenue du Drapeau", "primary", [(47.3330, 5.0520), (47.3355, 5.0530), (47.3385, 5.0543)]),
    ("Avenue de Langres", "primary", [(47.3275, 5.0452), (47.3320, 5.0458), (47.3385, 5.0478),
                                      (47.3450, 5.0520), (47.3510, 5.0578)]),
    ("Boulevard Gaston Roupnel", "primary", [(47.3330, 5.0520), (47.3336, 5.0570),
                                             (47.3343, 5.0620), (47.3346, 5.0655)]),
    ("Boulevard de Strasbourg", "primary", [(47.3205, 5.0515), (47.3180, 5.0560),
                                            (47.3150, 5.0615), (47.3127, 5.0676)]),
    ("Rue d'Auxonne", "secondary", [(47.3143, 5.0458), (47.3125, 5.0485), (47.3100, 5.0515)]),
    ("Cours du Parc", "primary", [(47.3140, 5.0455), (47.3110, 5.0466), (47.3078, 5.0474),
                                  (47.3052, 5.0480)]),
    ("Avenue Jean-Jaurès", "primary", [(47.3160, 5.0343), (47.3120, 5.0335), (47.3076, 5.0325),
                                       (47.3000, 5.0305)]),
    ("Boulevard des Bourroches", "primary", [(47.3076, 5.0325), (47.3062, 5.0265),
                                             (47.3046, 5.0206)]),
    ("Boulevard Chanoine Kir", "primary", [(47.3222, 5.0262), (47.3200, 5.0200), (47.3185, 5.0120),
                                           (47.3171, 5.0042)]),
    ("Canal de Bourgogne", "water", [(47.3178, 5.0238), (47.3140, 5.0258), (47.3100, 5.0275),
                                     (47.3048, 5.0298)]),
]

# The demo's places (``demo.incidents.PLACES``) by their names, and a few landmarks.
PLACE_NAMES = {
    "darcy": "Place Darcy", "liberation": "Place de la Libération",
    "republique": "Place de la République", "trente_octobre": "Place du 30 Octobre",
    "wilson": "Place Wilson", "gare": "Gare Dijon-Ville", "jaures": "Avenue Jean-Jaurès",
    "bourroches": "Bourroches", "ouche": "Fontaine d'Ouche", "montchapet": "Montchapet",
    "toison": "Toison d'Or", "gresilles": "Grésilles", "universite": "Université",
    "parc": "Parc de la Colombière", "drapeau": "Drapeau", "berbisey": "Rue Berbisey",
    "victor_hugo": "Victor Hugo",
}
LANDMARKS = [
    ("Palais des ducs", (47.3218, 5.0414)),
    ("Place François Rude", (47.3221, 5.0396)),
    ("Halles centrales", (47.3236, 5.0393)),
    ("Église Notre-Dame", (47.3227, 5.0425)),
    ("Cathédrale Saint-Bénigne", (47.3216, 5.0346)),
    ("Jardin Darcy", (47.3230, 5.0340)),
]


def _point(name: str, kind: str, lat: float, lon: float) -> dict:
    return {"type": "Feature", "properties": {"name": name, "class": kind},
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def basemap_geojson() -> dict:
    """The streets (lines) and named places (points) as one GeoJSON FeatureCollection."""
    features = [
        {"type": "Feature", "properties": {"name": name, "class": kind},
         "geometry": {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in points]}}
        for name, kind, points in STREETS
    ]
    features += [_point(PLACE_NAMES[code], "place", *PLACES[code]) for code in PLACE_NAMES
                 if not PLACE_NAMES[code].startswith(("Rue ", "Avenue "))]
    features += [_point(name, "landmark", lat, lon) for name, (lat, lon) in LANDMARKS]
    return {"type": "FeatureCollection", "name": "dijon-basemap", "features": features}


def basemap_text() -> str:
    """The collection as text, one feature a line (readable diffs when a street is added)."""
    data = basemap_geojson()
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in data["features"]]
    return ('{"type":"FeatureCollection","name":"dijon-basemap","features":[\n'
            + ",\n".join(lines) + "\n]}\n")


def write(path: Path = OUTPUT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(basemap_text(), encoding="utf-8")
    return path
