"""The part of a country whose holidays an address keeps, where its pack's calendar is kept by part (a UK nation, an
Indian state): read from the address's text, its postcode first (a UK one names its nation), then the last name of a
part it names (", Maharashtra 400020"); the pack's default part, or None (the national days), when it names none."""

import re
from functools import cache, lru_cache

import holidays

from api.rules.packs import HolidayCalendar, Pack

# the postcode areas of Scotland and Northern Ireland (BT), and those wholly in Wales; the rest of Great Britain's
# are England's, and so are the English towns of Scottish areas (Berwick-upon-Tweed's TD15)
_GB_AREAS = dict.fromkeys(
    ("AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "TD", "ZE"), "SCT"
) | {"BT": "NIR", "CF": "WLS", "LD": "WLS", "LL": "WLS", "NP": "WLS", "SA": "WLS"}
_GB_DISTRICTS = {"TD15": "ENG"}
_GB_POSTCODE = re.compile(r"\b([A-Z]{1,2})(\d[A-Z\d]?)\s*\d[A-Z]{2}\b", re.IGNORECASE)


def address_subdivision(pack: Pack, text: str) -> str | None:
    """The code of the part of the country (as the holidays package names it, e.g. "SCT") whose holidays the
    address keeps; None where its pack keeps national holidays only, or it names no part and the pack has no
    default."""
    calendar = pack.holidays
    if calendar is None or not calendar.subdivisions:
        return None
    return _by_postcode(calendar.country, text) or _by_name(calendar.country, text) or calendar.default_subdivision


def subdivision_name(calendar: HolidayCalendar, code: str) -> str:
    """The name of a subdivision of the calendar's country, e.g. "Scotland"."""
    return _names_of(calendar.country).get(code, code)


def _by_postcode(country: str, text: str) -> str | None:
    if country != "GB":
        return None
    found = _GB_POSTCODE.findall(text)
    if not found:
        return None
    area, district = (part.upper() for part in found[-1])
    return _GB_DISTRICTS.get(area + district) or _GB_AREAS.get(area, "ENG")


@lru_cache(maxsize=4096)
def _by_name(country: str, text: str) -> str | None:
    found = _names(country).findall(text)
    return _codes(country)[found[-1].casefold()] if found else None


def _aliases(country: str) -> dict[str, str]:
    """The names of the subdivisions (some with and without diacritics) -> code; India's "TG" is a code, no name."""
    aliases: dict[str, str] = holidays.country_holidays(country).subdivisions_aliases
    return {alias: code for alias, code in aliases.items() if not alias.isupper()}


@cache
def _names_of(country: str) -> dict[str, str]:
    """code -> its first name, e.g. "SCT" -> "Scotland"."""
    names: dict[str, str] = {}
    for alias, code in _aliases(country).items():
        names.setdefault(code, alias)
    return names


@cache
def _codes(country: str) -> dict[str, str]:
    return {alias.casefold(): code for alias, code in _aliases(country).items()}


@cache
def _names(country: str) -> re.Pattern[str]:
    names = sorted(_codes(country), key=len, reverse=True)  # "West Bengal" before a shorter name inside it
    return re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b", re.IGNORECASE)
