"""In the demo, every device step of an open incident's procedure finds a device of its kind
within the step's reach: the panels, sirens and bollards stand near the incidents."""

from pathlib import Path

import yaml

from controlroom import geo
from demo.devices import DEVICES
from demo.incidents import INCIDENTS, PLACES
from devices import capabilities

PROCEDURES = Path(__file__).resolve().parents[2] / "demo" / "procedures.yaml"


def _device_points() -> list[tuple[str, str, float, float]]:
    return [(code, kind, PLACES[place][0] + north / 111_000, PLACES[place][1] + east / 75_000)
            for code, _name, kind, place, (north, east), _sim in DEVICES]


def test_every_device_step_of_a_demo_incident_finds_a_device_nearby():
    templates = yaml.safe_load(PROCEDURES.read_text(encoding="utf-8"))
    devices = _device_points()
    missing = []
    for category, title, place, *_rest in INCIDENTS:
        lat, lon = PLACES[place]
        for template in templates:
            if template["category"] != category:
                continue
            for step in template["steps"]:
                if step["kind"] != "device_command":
                    continue
                kind, _action, _params, radius = capabilities.step_command(step["params"])
                if not any(k == kind and geo.distance_m(lat, lon, dlat, dlon) <= radius
                           for _code, k, dlat, dlon in devices):
                    missing.append(f"{title}: {step['key']} ({kind} within {radius:.0f} m)")
    assert not missing, missing
