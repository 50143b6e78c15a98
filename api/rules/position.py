"""Positions at the door: how far apart two fixes are, and when the two agents' check-ins together say where the
address really is."""

from dataclasses import dataclass
from math import asin, cos, radians, sin, sqrt

from routing.matrix import EARTH_MEAN_RADIUS_M

DOOR_FIX_ACCURACY_M = 50.0  # a check-in less accurate than this does not verify a point
DOOR_AGREEMENT_M = 25.0  # two check-ins this close agree whatever their accuracies say


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    dlat, dlon = radians(lat2 - lat1), radians(lon2 - lon1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlon / 2) ** 2
    return 2 * EARTH_MEAN_RADIUS_M * asin(sqrt(a))


@dataclass(frozen=True, slots=True)
class Fix:
    lat: float
    lon: float
    accuracy_m: float


def door_point(first: Fix, second: Fix) -> Fix | None:
    """Where the address is, from the two agents' check-ins at a visit that met the debtor or family there: their
    mean, as accurate as the less accurate of them; None when either is too inaccurate or they disagree (farther
    apart than their accuracies together, or than DOOR_AGREEMENT_M if that is more)."""
    if max(first.accuracy_m, second.accuracy_m) > DOOR_FIX_ACCURACY_M:
        return None
    apart = distance_m(first.lat, first.lon, second.lat, second.lon)
    if apart > max(DOOR_AGREEMENT_M, first.accuracy_m + second.accuracy_m):
        return None
    return Fix((first.lat + second.lat) / 2, (first.lon + second.lon) / 2, max(first.accuracy_m, second.accuracy_m))


def checkin_too_far(distance: float, accuracy_m: float, radius_m: float) -> bool:
    """Whether a check-in is outside the geofence: farther from the address than its radius, plus the fix's accuracy
    counted up to the radius again."""
    return distance > radius_m + min(accuracy_m, radius_m)
