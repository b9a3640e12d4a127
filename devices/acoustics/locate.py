"""Where an impulse (a gunshot) came from, by the differences between its arrival times.

Each sensor that heard it gives a time t_i = t0 + |p - s_i| / c: three unknowns, the place p and
the emission time t0, so three sensors give a fix and every further one a check. Streets make
echoes and blocked direct paths: an arrival can come late by the extra path, never early (the
clocks agree to about a millisecond). The solver is therefore robust, in the RANSAC way:

1. every triple of sensors gives the exact solutions through its own arrivals (closed form, up
   to two per triple), as hypotheses;
2. each hypothesis is refined by Gauss-Newton on the arrivals it explains within a few jitters,
   then the inliers are taken again, until they settle (all hypotheses at once, with numpy);
3. the one with the lowest truncated cost wins: an inlier costs its squared residual, a late
   arrival a fixed price (an echo), an early one three times that price (no echo explains it).

The uncertainty radius holds: the timing noise through the geometry (the 95 % ellipse of the
least-squares covariance, never below RADIUS_FLOOR); with three arrivals, nothing checked them,
so also the shift an echo of ``ECHO_ALLOWANCE`` on any one of them would cause; and any other
place the arrivals fit about as well (three sensors with a second exact solution, sensors
nearly on one street), which the radius must reach.

Everything is in metres inside: times become ranges (c * (t - the first arrival)), so POSIX
times lose nothing, and the plane is centred on the sensors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

SPEED_OF_SOUND = 343.0  # m/s, dry air at 20 °C; the caller may pass the day's value
RADIUS_FLOOR = 3.0  # metres: below, sensor positions and the sound's own size dominate
ECHO_ALLOWANCE = 15.0  # metres of extra path an unchecked arrival may carry (street echoes)
INLIER_JITTERS = 3.5  # an arrival is kept within this many jitters of the fit
EARLY_PRICE = 3.0  # an early outlier costs this many late ones
CHI2_95_2D = 5.991  # 95 % quantile of chi-square with 2 degrees of freedom
AMBIGUOUS_CHI2 = 6.0  # another minimum within this chi-square of the best is as credible
COLLINEAR = 1e-3  # a triple flatter than this (sine of its angle) gives no hypothesis
KEEP_HYPOTHESES = 16  # refined, out of up to two per triple


@dataclass(frozen=True)
class Arrival:
    x: float  # metres east in a local plane
    y: float  # metres north
    t: float  # seconds, on clocks synchronised to about a millisecond
    key: object = None  # the caller's id for the sensor, carried through


@dataclass(frozen=True)
class Fix:
    x: float
    y: float
    t0: float  # emission time, on the arrivals' clock
    radius: float  # metres, about 95 % confidence; never below RADIUS_FLOOR
    used: tuple  # keys of the arrivals kept
    rejected: tuple  # keys of the arrivals rejected as outliers (echoes)
    rms_residual: float  # seconds, over the arrivals kept


def propagation_window(distance_m: float, speed: float = SPEED_OF_SOUND) -> float:
    """Seconds sound takes over ``distance_m``: how far apart arrivals of one shot can be."""
    return distance_m / speed


def locate(arrivals: Sequence[Arrival], *, speed: float = SPEED_OF_SOUND, jitter: float = 0.001,
           max_range: float | None = None) -> Fix | None:
    """The source of one impulse from its arrivals at three sensors or more.

    ``jitter`` is the standard deviation of the timing error (clock sync and onset picking).
    ``max_range`` is how far a sensor hears: every sensor that heard the shot, echo or not, is
    within it of the source (an echo's path is longer than the direct one), which rules out far
    solutions.

    None when fewer than 3 arrivals; when the sensors kept are collinear (the mirror image
    across their line fits exactly as well, no side can be told: None rather than a fix on a
    coin toss); when no place fits at least half of the arrivals within a few jitters (any
    three arrivals fit exactly: three of six prove little, and get the wide radius of an
    unchecked fix); or when an arrival comes early, which no echo explains, and those kept are
    not a checked majority (four or more, over half) to outvote it.
    """
    arrivals = list(arrivals)
    n = len(arrivals)
    if n < 3:
        return None
    xy = np.array([(a.x, a.y) for a in arrivals], dtype=float)
    times = np.array([a.t for a in arrivals], dtype=float)
    if not (np.isfinite(xy).all() and np.isfinite(times).all()):
        return None
    centre = xy.mean(axis=0)
    sensors = xy - centre
    first = times.min()
    ranges = (times - first) * speed
    sigma = speed * max(jitter, 1e-6)
    threshold = INLIER_JITTERS * sigma

    points, offsets = _hypotheses(sensors, ranges)
    if not len(points):
        return None
    if len(points) > KEEP_HYPOTHESES:  # the exact fits of clean triples already rank first
        errors, _ = _residuals(sensors, ranges, points, offsets)
        keep = np.argsort(_cost(errors, threshold))[:KEEP_HYPOTHESES]
        points, offsets = points[keep], offsets[keep]
    points, offsets, _ = _refine(sensors, ranges, points, offsets, threshold)
    errors, distances = _residuals(sensors, ranges, points, offsets)
    cost = _cost(errors, threshold)
    if max_range is not None:
        cost[distances.max(axis=1) > max_range] = np.inf
    finite = np.isfinite(cost)
    if not finite.any():
        return None
    best = _pick(cost, points, sigma)
    point, offset, inliers = _settle(sensors, ranges, points[best], offsets[best], threshold)
    error, _ = _residuals(sensors, ranges, point[None], np.array([offset]))
    error = error[0]
    kept = int(inliers.sum())
    early = bool((error[~inliers] < -threshold).any())
    if kept < 3 or 2 * kept < n or (early and (kept < 4 or 2 * kept <= n)):
        return None  # too few agree, or an early arrival not outvoted by a checked majority
    if _collinear(sensors[inliers]):
        return None
    if max_range is not None and np.hypot(*(sensors - point).T).max() > max_range:
        return None

    used = error[inliers]
    rms = float(np.sqrt(np.mean(used ** 2)))
    spread = max(sigma, math.sqrt(float(used @ used) / (len(used) - 3)) if len(used) > 3 else 0)
    radius = _radius(sensors[inliers], point, spread)
    if not math.isfinite(radius):
        return None
    # Another place the arrivals fit about as well (likelihood within e^-3): reach it too.
    best_cost = float(_cost(error[None], threshold)[0])
    rivals = finite & (cost <= best_cost + AMBIGUOUS_CHI2 * sigma ** 2)
    gaps = np.hypot(*(points[rivals] - point).T)
    if (gaps > radius).any():
        radius = float(gaps.max()) + radius

    keys = [a.key for a in arrivals]
    return Fix(x=float(point[0] + centre[0]), y=float(point[1] + centre[1]),
               t0=float(first + offset / speed), radius=radius,
               used=tuple(k for k, kept in zip(keys, inliers) if kept),
               rejected=tuple(k for k, kept in zip(keys, inliers) if not kept),
               rms_residual=rms / speed)


def _hypotheses(sensors: np.ndarray, ranges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact solutions of every triple: places (K, 2) and range offsets c * t0 (K,).

    With the triple's first sensor at the origin and R its range, each other sensor j gives a
    line 2 a_j . q = |a_j|^2 - d_j^2 - 2 R d_j (d_j its range difference), so q = u + v R, and
    |q| = R leaves a quadratic in R. A negative discriminant is noise on a near-tangent case:
    its vertex is kept, for the refinement to finish.
    """
    triples = np.array(list(combinations(range(len(sensors)), 3)))
    i, j, k = triples.T
    aj, ak = sensors[j] - sensors[i], sensors[k] - sensors[i]
    dj, dk = ranges[j] - ranges[i], ranges[k] - ranges[i]
    det = aj[:, 0] * ak[:, 1] - aj[:, 1] * ak[:, 0]
    flat = np.abs(det) < COLLINEAR * np.hypot(*aj.T) * np.hypot(*ak.T)
    det = np.where(flat, 1.0, det)
    bj, bk = (aj ** 2).sum(1) - dj ** 2, (ak ** 2).sum(1) - dk ** 2
    # Inverse of 2 [aj; ak] applied to (bj, bk) and to (-2 dj, -2 dk).
    u = np.stack([ak[:, 1] * bj - aj[:, 1] * bk, aj[:, 0] * bk - ak[:, 0] * bj], 1)
    u /= (2 * det)[:, None]
    v = np.stack([ak[:, 1] * -dj + aj[:, 1] * dk, aj[:, 0] * -dk + ak[:, 0] * dj], 1)
    v /= det[:, None]
    qa, qb, qc = (v ** 2).sum(1) - 1, (u * v).sum(1), (u ** 2).sum(1)
    root = np.sqrt(np.maximum(qb ** 2 - qa * qc, 0))
    # |v| = 1: the quadratic is linear, one root.
    linear = np.abs(qa) < 1e-12
    safe_a = np.where(linear, 1.0, qa)
    safe_b = np.where(qb == 0, 1e-300, qb)
    big_r = np.concatenate([np.where(linear, -qc / (2 * safe_b), (-qb + root) / safe_a),
                            np.where(linear, np.nan, (-qb - root) / safe_a)])
    origin = np.tile(sensors[i], (2, 1))
    q = np.tile(u, (2, 1)) + np.tile(v, (2, 1)) * big_r[:, None]
    keep = (~np.tile(flat, 2) & np.isfinite(big_r) & (big_r >= 0)
            & (big_r + np.tile(dj, 2) >= 0) & (big_r + np.tile(dk, 2) >= 0))
    return (origin + q)[keep], (np.tile(ranges[i], 2) - big_r)[keep]


def _residuals(sensors, ranges, points, offsets):
    """Arrival minus prediction, in metres, for every hypothesis (K, n), and the distances."""
    distances = np.hypot(points[:, None, 0] - sensors[None, :, 0],
                         points[:, None, 1] - sensors[None, :, 1])
    return ranges[None, :] - offsets[:, None] - distances, distances


def _cost(errors: np.ndarray, threshold: float) -> np.ndarray:
    """Truncated squares: an outlier costs threshold^2, an early one EARLY_PRICE times that."""
    cost = np.minimum(errors ** 2, threshold ** 2)
    cost = np.where(errors < -threshold, EARLY_PRICE * threshold ** 2, cost)
    return cost.sum(axis=1)


def _inliers(errors: np.ndarray, threshold: float) -> np.ndarray:
    """Within the threshold; at least the three best, so each hypothesis keeps a fit."""
    third = np.sort(np.abs(errors), axis=1)[:, 2:3]
    return np.abs(errors) <= np.maximum(threshold, third)


def _refine(sensors, ranges, points, offsets, threshold, rounds=4):
    """Gauss-Newton on each hypothesis' inliers, inliers taken again, until they settle."""
    mask = None
    for _ in range(rounds):
        errors, _ = _residuals(sensors, ranges, points, offsets)
        new = _inliers(errors, threshold)
        if mask is not None and (new == mask).all():
            break
        mask = new
        points, offsets = _solve(sensors, ranges, points, offsets, mask.astype(float))
    # Hard masks can stall: an arrival just outside stays out once the fit leans away from it.
    # Take back those within twice the threshold, and keep whichever fit costs less.
    errors, _ = _residuals(sensors, ranges, points, offsets)
    grown = mask | (np.abs(errors) <= 2 * threshold)
    retry = np.flatnonzero((grown != mask).any(axis=1))
    if len(retry):
        trial_points, trial_offsets = _solve(sensors, ranges, points[retry], offsets[retry],
                                             grown[retry].astype(float))
        trial, _ = _residuals(sensors, ranges, trial_points, trial_offsets)
        better = _cost(trial, threshold) < _cost(errors[retry], threshold)
        points[retry[better]] = trial_points[better]
        offsets[retry[better]] = trial_offsets[better]
    return points, offsets, mask


def _solve(sensors, ranges, points, offsets, weights, steps=6, tolerance=1e-4):
    """Weighted least squares for all hypotheses at once: Gauss-Newton steps (the residual
    e = r - r0 - |p - s| has gradient -(unit vector, 1)), halved while they do not help."""
    for _ in range(steps):
        dx = points[:, None, 0] - sensors[None, :, 0]
        dy = points[:, None, 1] - sensors[None, :, 1]
        distances = np.maximum(np.hypot(dx, dy), 1e-9)
        errors = ranges[None, :] - offsets[:, None] - distances
        ux, uy = dx / distances, dy / distances  # unit vectors, sensor to source
        wx, wy = weights * ux, weights * uy
        normal = np.empty((len(points), 3, 3))
        normal[:, 0, 0] = (wx * ux).sum(1)
        normal[:, 0, 1] = normal[:, 1, 0] = (wx * uy).sum(1)
        normal[:, 1, 1] = (wy * uy).sum(1)
        normal[:, 0, 2] = normal[:, 2, 0] = wx.sum(1)
        normal[:, 1, 2] = normal[:, 2, 1] = wy.sum(1)
        normal[:, 2, 2] = weights.sum(1)
        trace = normal[:, 0, 0] + normal[:, 1, 1] + normal[:, 2, 2]
        normal += 1e-9 * (trace + 1)[:, None, None] * np.eye(3)  # a whisper of damping
        gradient = np.stack([(wx * errors).sum(1), (wy * errors).sum(1),
                             (weights * errors).sum(1)], 1)
        delta = np.linalg.solve(normal, gradient[..., None])[..., 0]
        before = (weights * errors ** 2).sum(1)
        scale = np.ones(len(points))
        for attempt in range(4):
            trial, _ = _residuals(sensors, ranges, points + scale[:, None] * delta[:, :2],
                                  offsets + scale * delta[:, 2])
            worse = (weights * trial ** 2).sum(1) > before * (1 + 1e-12) + 1e-18
            if not worse.any():
                break
            scale[worse] = 0.0 if attempt == 3 else scale[worse] * 0.5
        points = points + scale[:, None] * delta[:, :2]
        offsets = offsets + scale * delta[:, 2]
        if (np.abs(scale[:, None] * delta) < tolerance).all():
            break
    return points, offsets


def _pick(cost: np.ndarray, points: np.ndarray, sigma: float) -> int:
    """The lowest cost; among ties (three sensors, two exact solutions), the place nearest the
    sensors' centre, since a shot is heard by the sensors nearest to it."""
    tied = np.flatnonzero(cost <= cost.min() + sigma ** 2)
    return int(tied[np.argmin(np.hypot(*points[tied].T))])


def _settle(sensors, ranges, point, offset, threshold):
    """The chosen hypothesis refined alone until its inliers no longer change."""
    points, offsets = point[None], np.array([offset])
    mask = None
    for _ in range(6):
        errors, _ = _residuals(sensors, ranges, points, offsets)
        new = np.abs(errors) <= threshold
        if new.sum() < 3 or (mask is not None and (new == mask).all()):
            break
        mask = new
        points, offsets = _solve(sensors, ranges, points, offsets, mask.astype(float))
    return points[0], float(offsets[0]), new[0]


def _collinear(sensors: np.ndarray) -> bool:
    centred = sensors - sensors.mean(axis=0)
    low, high = np.linalg.svd(centred, compute_uv=False)[[-1, 0]]
    return low <= COLLINEAR * high


def _radius(sensors: np.ndarray, point: np.ndarray, spread: float) -> float:
    """95 % radius from the timing noise; with three arrivals, plus what an echo could do.

    Noise: the major semi-axis of the 95 % ellipse of the covariance spread^2 (J'J)^-1. With
    more arrivals the inlier test bounds what an echo can hide, and the bench finds this radius
    (with its floor) covering the true point in 97-100 % of shots. With three, nothing is
    checked: an echo of ECHO_ALLOWANCE on arrival i moves the fix by that much times column i of
    the pseudo-inverse, and the largest such move is added.
    """
    diff = point[None, :] - sensors
    distances = np.maximum(np.hypot(*diff.T), 1e-9)
    jac = np.column_stack([-diff / distances[:, None], -np.ones(len(sensors))])
    try:
        inverse = np.linalg.inv(jac.T @ jac)
    except np.linalg.LinAlgError:
        return math.inf
    covariance = spread ** 2 * inverse[:2, :2]
    radius = math.sqrt(CHI2_95_2D * max(float(np.linalg.eigvalsh(covariance)[-1]), 0.0))
    if len(sensors) == 3:
        gain = inverse[:2] @ jac.T  # metres of fix per metre of range, one column per arrival
        radius += ECHO_ALLOWANCE * float(np.hypot(*gain).max())
    return max(RADIUS_FLOOR, radius)


# WGS 84, the datum of GPS positions.
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)


def _ecef(lat: float, lon: float) -> tuple[float, float, float]:
    """Earth-centred cartesian metres of a point on the ellipsoid (height 0)."""
    phi, lam = math.radians(lat), math.radians(lon)
    n = _A / math.sqrt(1 - _E2 * math.sin(phi) ** 2)
    return (n * math.cos(phi) * math.cos(lam), n * math.cos(phi) * math.sin(lam),
            n * (1 - _E2) * math.sin(phi))


class LocalPlane:
    """East and north metres around an origin (lat, lon), for the solver's flat geometry.

    Computed on the plane tangent to the WGS 84 ellipsoid at the origin, not by the plain
    equirectangular formula: that one keeps the origin's east-west scale, which is off by
    tan(lat) * (metres north) / R, 5 cm on a 300 m baseline 1 km from the origin at 47° N and
    15 cm at 3 km; the tangent plane stays within a millimetre over 5 km. Heights are ignored
    (sensors on poles a few metres up). ``to_latlon`` inverts it to well below a millimetre.
    """

    def __init__(self, lat: float, lon: float):
        self.lat, self.lon = float(lat), float(lon)
        phi, lam = math.radians(self.lat), math.radians(self.lon)
        self._origin = _ecef(self.lat, self.lon)
        self._east = (-math.sin(lam), math.cos(lam), 0.0)
        self._north = (-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam),
                       math.cos(phi))
        w = 1 - _E2 * math.sin(phi) ** 2
        # Metres per radian: of latitude (meridian radius), of longitude (parallel's radius).
        self._per_lat = _A * (1 - _E2) / w ** 1.5
        self._per_lon = _A / math.sqrt(w) * math.cos(phi)

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        point = [p - o for p, o in zip(_ecef(lat, lon), self._origin)]
        return (sum(p * e for p, e in zip(point, self._east)),
                sum(p * n for p, n in zip(point, self._north)))

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        """Equirectangular guess, then corrected by the forward error until it vanishes (each
        round gains about three digits near the origin)."""
        lat = self.lat + math.degrees(y / self._per_lat)
        lon = self.lon + math.degrees(x / self._per_lon)
        for _ in range(5):
            ex, ey = self.to_xy(lat, lon)
            if abs(ex - x) < 1e-6 and abs(ey - y) < 1e-6:
                break
            lat += math.degrees((y - ey) / self._per_lat)
            lon += math.degrees((x - ex) / self._per_lon)
        return lat, lon
