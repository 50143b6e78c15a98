"""Where each district is: the centre cpca ships for every administrative division (its seat, in WGS-84 degrees),
read once from the package's own table."""

import csv
from functools import cache
from importlib import resources
from typing import Any

from api.geo import GeoPoint, distance_m


@cache
def _centres() -> dict[str, tuple[float, float]]:
    table = resources.files("cpca").joinpath("resources", "adcodes.csv")
    with table.open(encoding="utf-8") as rows:
        return {
            row["adcode"][:6]: (float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(rows)
            if row["latitude"] and row["longitude"] and row["adcode"].endswith("000000")  # districts, not towns
        }


def district_centre(parts: dict[str, Any]) -> tuple[float, float] | None:
    """The (lat, lon) of the district an address's parts name (by its 6-digit adcode), or None if they name none."""
    adcode = parts.get("adcode")
    if not adcode or not parts.get("district"):
        return None
    return _centres().get(str(adcode)[:6])


def far_from_district(parts: dict[str, Any], point: GeoPoint, *, radius_m: float) -> bool:
    """Whether the point lies farther than `radius_m` from the centre of the district the address's parts name (never
    when they name none)."""
    centre = district_centre(parts)
    return centre is not None and distance_m(point.lat, point.lon, *centre) > radius_m
