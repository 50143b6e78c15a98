"""AMap's driving distance (Web 服务 距离测量, GET /v3/distance, type 1): seconds and metres by road from up to 100
origins to one destination, in the traffic of the moment it is asked. Right for re-pricing a plan's legs and
learning the hours' traffic; wrong as a matrix engine (a 1,000-point matrix would be 10,000 requests)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import geocoordinates_ffi
from sqlalchemy.orm import Session

from api.addresses.geocoders import AMapService, GeocoderError, SharedRateLimiter
from api.config import GeocodingSettings
from routing.matrix import Point

MAX_ORIGINS = 100  # origins one request may name


@dataclass(frozen=True, slots=True)
class Driven:
    """A leg as AMap prices it now."""

    seconds: int
    metres: int


class AMapDriving(AMapService):
    """AMap's driving distance for a key, each request paced by its limiter (shared with the geocoder: one key) and
    retried while AMap is unavailable. Points go out in GCJ-02, AMap's datum."""

    def driving(self, origins: Sequence[Point], destination: Point) -> list[Driven | None]:
        """Each origin's drive to `destination` (in their order), None where AMap finds no road between them."""
        if not 1 <= len(origins) <= MAX_ORIGINS:
            raise ValueError(f"give 1 to {MAX_ORIGINS} origins, not {len(origins)}")
        params = {
            "key": self._key,
            "origins": "|".join(_gcj02(point) for point in origins),
            "destination": _gcj02(destination),
            "type": "1",
            "output": "JSON",
        }
        body = self._get_json("/v3/distance", params)
        found: dict[int, Driven] = {}
        for result in body.get("results") or []:
            driven = self._driven(result)
            if driven is not None:
                found[driven[0]] = driven[1]
        return [found.get(index) for index in range(1, len(origins) + 1)]

    def _driven(self, result: Any) -> tuple[int, Driven] | None:
        """(origin number from 1, the drive) of one result; None for a pair without a road (a `code`, 1: no road
        joins them, 2: an end far from every road, 3: an end outside China)."""
        try:
            if str(result.get("code") or "0") != "0":
                return None
            return int(result["origin_id"]), Driven(round(float(result["duration"])), round(float(result["distance"])))
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise GeocoderError(self.name, f"a result without its numbers: {result!r}") from error


def _gcj02(point: Point) -> str:
    """`lon,lat` in GCJ-02 to 6 decimals, as AMap takes a coordinate."""
    shifted = geocoordinates_ffi.wgs84_to_gcj02(geocoordinates_ffi.Wgs84(lat=point[0], lon=point[1]))
    return f"{shifted.lon:.6f},{shifted.lat:.6f}"


def configured_driving(settings: GeocodingSettings, sessions: Callable[[], Session]) -> AMapDriving | None:
    """AMap's driving distance when the settings have an AMap key, paced with the geocoder's requests on the same
    key across every process (`SharedRateLimiter`); None without a key."""
    if not settings.amap_key:
        return None
    return AMapDriving(
        settings.amap_key.get_secret_value(),
        base_url=settings.amap_base_url,
        timeout_s=settings.timeout_s,
        limiter=SharedRateLimiter(sessions, "amap", settings.amap_per_second),
        retries=settings.retries,
    )
