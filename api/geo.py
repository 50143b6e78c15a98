"""Points as the API shows them (lat/lon) and as the database stores them (WGS84 geometry)."""

from geoalchemy2 import Geometry, WKBElement, WKTElement
from geoalchemy2.shape import to_shape
from pydantic import BaseModel, ConfigDict, Field
from shapely import Point

from api.rules.position import distance_m

__all__ = ["GeoPoint", "distance_m", "point_column_type", "point_shape"]


def point_column_type(*, spatial_index: bool = False) -> Geometry:
    return Geometry("POINT", srid=4326, spatial_index=spatial_index)


def point_shape(value: WKBElement | WKTElement | None) -> Point:
    """The point a POINT column holds, as read back (WKB) or as just set from text (WKT); for rows that must have
    one (a placed address, a branch's office)."""
    if value is None:
        raise ValueError("the row has no point")
    shape = to_shape(value)
    if not isinstance(shape, Point):
        raise TypeError(f"a POINT column holds a {shape.geom_type}")
    return shape


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
        shape = point_shape(value)
        return cls(lat=shape.y, lon=shape.x)
