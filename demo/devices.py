"""Demo devices of Dijon, driven by the built-in simulator, and the night-noise rule."""

from datetime import time

from controlroom.services import configuration_save
from demo.incidents import DEMO_ACTOR, PLACES
from devices import services
from devices.models import Device, TelemetryRule
from incidents.models import Category

# code, name, kind, place, offset (m north, m east), simulation settings
DEVICES = [
    ("lum-darcy-1", "Candélabre place Darcy nord", "street_light", "darcy", (15, 0), {}),
    ("lum-darcy-2", "Candélabre place Darcy sud", "street_light", "darcy", (-15, 5), {}),
    ("lum-jaures-1", "Candélabre av. Jean-Jaurès école", "street_light", "jaures", (0, 0), {}),
    ("lum-jaures-2", "Candélabre av. Jean-Jaurès 12", "street_light", "jaures", (30, 10), {}),
    ("lum-republique-1", "Candélabre place de la République", "street_light", "republique",
     (0, 20), {}),
    ("lum-berbisey-1", "Candélabre rue Berbisey", "street_light", "berbisey", (10, 0), {}),
    ("feux-wilson", "Carrefour place Wilson", "traffic_signal", "wilson", (0, 0), {}),
    ("feux-republique", "Carrefour République / Trémouille", "traffic_signal", "republique",
     (-20, 0), {}),
    ("borne-liberte", "Borne rue de la Liberté", "bollard", "liberation", (0, -40), {}),
    ("borne-chouette", "Borne rue de la Chouette", "bollard", "liberation", (40, -20), {}),
    ("pmv-gare", "Panneau à messages gare Dijon-Ville", "message_panel", "gare", (0, 0), {}),
    ("pmv-toison", "Panneau à messages Toison d'Or", "message_panel", "toison", (0, 0), {}),
    ("sirene-centre", "Sirène centre-ville", "siren", "liberation", (20, 10), {}),
    # Near the demo's open incidents, so that their procedures' panel, siren and bollard steps
    # find a device within reach (``devices.capabilities.STEP_RADIUS_M``).
    ("borne-republique", "Borne place de la République", "bollard", "republique", (-40, -30), {}),
    ("sirene-republique", "Sirène place de la République", "siren", "republique", (30, -20), {}),
    ("pmv-republique", "Panneau à messages place de la République", "message_panel",
     "republique", (-60, 40), {}),
    ("sirene-gare", "Sirène gare Dijon-Ville", "siren", "gare", (-40, 30), {}),
    ("pmv-tremouille", "Panneau à messages boulevard de la Trémouille", "message_panel",
     "drapeau", (-50, 0), {}),
    ("feux-drapeau", "Carrefour place du Drapeau", "traffic_signal", "drapeau", (30, 30), {}),
    ("sirene-drapeau", "Sirène place du Drapeau", "siren", "drapeau", (-30, 40), {}),
    ("sono-berbisey", "Sonomètre rue Berbisey", "noise_sensor", "berbisey", (5, 5),
     {"noise_offset_db": 26}),
    ("sono-republique", "Sonomètre place de la République", "noise_sensor", "republique",
     (10, -10), {}),
    ("compteur-darcy", "Compteur de passants place Darcy", "people_counter", "darcy", (0, 10), {}),
    ("air-wilson", "Capteur qualité de l'air place Wilson", "air_quality", "wilson", (10, 10), {}),
]


def load(context: dict) -> None:
    from controlroom.selectors import sector_at

    for code, name, kind, place, (north, east), simulation in DEVICES:
        if Device.objects.filter(code=code).exists():
            continue
        lat = PLACES[place][0] + north / 111_000
        lon = PLACES[place][1] + east / 75_000
        device = Device(code=code, name=name, kind=kind, address=code, simulation=simulation,
                        heartbeat_seconds=120)
        device.set_point(lat, lon)
        device.sector = sector_at(lat=lat, lon=lon)
        # Journaled like an administrator's creation: replay draws it from then on.
        configuration_save(instance=device, by=DEMO_ACTOR, created=True)
        services.device_report(device=device)
    if not TelemetryRule.objects.filter(name="Bruit nocturne").exists():
        # Journaled like an administrator's creation.
        configuration_save(instance=TelemetryRule(
            name="Bruit nocturne", metric="laeq_db", comparison=">", threshold=70,
            aggregation="leq", window_seconds=600, duration_seconds=0,
            time_start=time(22, 0), time_end=time(7, 0),
            category=Category.objects.get(code="nuisance_sonore"), severity=3,
        ), by=DEMO_ACTOR, created=True)
    from demo import sound as sound_demo

    sound_demo.load(context)
