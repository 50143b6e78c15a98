"""Points as the API shows them (lat/lon) and as the database stores them (WGS84 geometry)."""

from math import asin, cos, radians, sin, sqrt

from geoalchemy2 import Geometry, WKBElement, WKTElement
from geoalchemy2.shape import to_shape
from pydantic import BaseModel, ConfigDict, Field

from routing.matrix import EARTH_MEAN_RADIUS_M


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    dlat, dlon = radians(lat2 - lat1), radians(lon2 - lon1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlon / 2) ** 2
    return 2 * EARTH_MEAN_RADIUS_M * asin(sqrt(a))


def point_column_type(*, spatial_index: bool = False) -> Geometry:
    return Geometry("POINT", srid=4326, spatial_index=spatial_index)


class GeoPoint(BaseModel):
    """A WGS84 position in decimal degrees."""

    model_config = ConfigDict(strict=True, extra="forbid")

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="Latitude, degrees north.")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="Longitude, degrees east.")

    def to_wkt(self) -> WKTElement:
        return WKTElement(f"POINT({self.lon!r} {self.lat!r})", srid=4326)

    @classmethod
    def from_wkb(cls, value: WKBElement | WKTElement | None) -> "GeoPoint | None":
        if value is None:
            return None
        shape = to_shape(value)
        return cls(lat=shape.y, lon=shape.x)
