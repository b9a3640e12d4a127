"""What a piece of equipment does with a command, and the telemetry a sensor reports.

Pure Python, shared by the in-process simulator driver and by ``manage.py simulate_devices``,
which plays the equipment side over MQTT.
"""

import random


def apply(kind: str, state: dict, action: str, params: dict) -> dict:
    """The device's state after ``action``: what it reports back on its state topic."""
    state = dict(state or {})
    if kind == "street_light":
        if action == "set_level":
            state.update(on=params["level"] > 0, level=params["level"], boost=False)
        elif action == "on":
            state.update(on=True, level=state.get("level") or 100)
        elif action == "off":
            state.update(on=False, level=0, boost=False)
        elif action == "boost":
            state.update(on=True, level=100, boost=True, boost_seconds=params["duration_s"])
    elif kind == "traffic_signal":
        state["plan"] = params["plan"]
    elif kind == "bollard":
        state["position"] = "up" if action == "raise" else "down"
    elif kind == "message_panel":
        state["lines"] = params.get("lines", []) if action == "show" else []
        if action == "show" and params.get("duration_s"):
            state["duration_s"] = params["duration_s"]
        else:
            state.pop("duration_s", None)
    elif kind == "siren":
        state["sounding"] = action == "sound"
        state["pattern"] = params.get("pattern", "") if action == "sound" else ""
    return state


def reading(kind: str, rng: random.Random, *, hour: int, noise_offset_db: float = 0.0) -> dict:
    """A plausible sensor reading for the hour of the day (louder and busier by day).

    ``noise_offset_db`` makes a noisy street (bars with terraces) louder at night.
    """
    day = 7 <= hour < 22
    if kind == "noise_sensor":
        offset = 0.0 if day else noise_offset_db
        return {"laeq_db": round(rng.gauss(62 if day else 48 + offset, 2), 1)}
    if kind == "people_counter":
        return {"people": max(0, int(rng.gauss(40 if day else 6, 8)))}
    if kind == "air_quality":
        return {"pm25": round(max(1.0, rng.gauss(12, 4)), 1),
                "pm10": round(max(2.0, rng.gauss(20, 6)), 1),
                "no2": round(max(1.0, rng.gauss(30 if day else 18, 8)), 1)}
    return {}
