"""Travel estimates for dispatch suggestions (pure: no database).

Great-circle distance times a street detour factor, at a typical urban speed per unit kind.
"""

from dataclasses import dataclass

from controlroom import geo

# Streets are rarely straight: road distance is about 1.3 times the great-circle distance.
DETOUR_FACTOR = 1.3

# Typical average speeds in town, km/h (priority driving for emergency vehicles).
SPEED_KMH = {
    "patrol_car": 35.0,
    "foot_patrol": 5.0,
    "bike_patrol": 15.0,
    "motorbike": 40.0,
    "dog_unit": 30.0,
    "fire_engine": 40.0,
    "ambulance": 40.0,
    "tow_truck": 25.0,
    "technical_team": 25.0,
}
DEFAULT_SPEED_KMH = 25.0


@dataclass(frozen=True)
class Estimate:
    distance_m: float  # estimated road distance
    eta_seconds: float


def estimate(unit, lat: float, lon: float) -> Estimate:
    straight = geo.distance_m(unit.lat, unit.lon, lat, lon)
    road = straight * DETOUR_FACTOR
    speed = SPEED_KMH.get(unit.kind, DEFAULT_SPEED_KMH) / 3.6
    return Estimate(distance_m=round(road, 1), eta_seconds=round(road / speed, 1))
