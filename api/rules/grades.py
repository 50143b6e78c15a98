"""How complete an address's text is and how precise a point is: the vocabulary that parsing, geocoding, the
evening pre-check and planning share, and the rule of which points planning may trust."""

from enum import StrEnum


class AddressGrade(StrEnum):
    """How far down an address's text reaches, from its parsed parts."""

    COMPLETE = "complete"  # down to a door: a room, or a house number where there is no building to enter
    BUILDING = "building"  # a building (号, 栋, 号楼), not its unit or room
    ROAD = "road"  # a road, lane or compound, not a building in it
    DISTRICT = "district"  # a district, a town or vaguer
    VAGUE = "vague"  # a vague marker (附近, 旁边, 对面, 拆迁, a landmark with no number), whatever else it has
    UNPARSEABLE = "unparseable"  # Chinese text in which no part of an address was found
    UNKNOWN_FORMAT = "unknown_format"  # not a Chinese address (another jurisdiction's): kept as text, not graded


class Precision(StrEnum):
    """How precise a point is, finest first."""

    DOOR = "door"  # a house number (AMap 门牌号, Nominatim house)
    BUILDING = "building"  # a building or a point of interest (AMap 兴趣点, 单元号, 楼栋; Nominatim building, amenity)
    ROAD = "road"  # a road or a crossing (AMap 道路, 道路交叉路口; Nominatim road)
    NEIGHBOURHOOD = "neighbourhood"  # a town, village, business area or development zone
    DISTRICT = "district"  # a district or county (AMap 区县)
    CITY = "city"  # a city, a province or coarser
    UNKNOWN = "unknown"  # the provider did not say (AMap 未知)


class PointSource(StrEnum):
    """Who set an address's point: the creditor's file, a geocoder (its name in `point_provider`), a supervisor by
    hand, or the team's two check-ins at a visit that met the debtor or family there. A person's point (supervisor,
    door) is never replaced by a geocoder's."""

    IMPORT = "import"
    GEOCODER = "geocoder"
    SUPERVISOR = "supervisor"
    DOOR = "door"


class AddressValidity(StrEnum):
    """Whether the address can be visited: `reported_invalid` waits for a supervisor, who confirms it
    (`confirmed_invalid`: planning skips it) or rejects the report."""

    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    REPORTED_INVALID = "reported_invalid"
    CONFIRMED_INVALID = "confirmed_invalid"


PERSON_SET = frozenset({PointSource.SUPERVISOR, PointSource.DOOR})


FINEST_FIRST = list(Precision)

# the coarsest point that planning trusts for an address of each grade; a grade missing here trusts no point
_NEEDS: dict[AddressGrade, Precision] = {
    AddressGrade.COMPLETE: Precision.BUILDING,
    AddressGrade.BUILDING: Precision.BUILDING,
    AddressGrade.ROAD: Precision.ROAD,
    AddressGrade.UNKNOWN_FORMAT: Precision.BUILDING,
}


def trusted(grade: AddressGrade, precision: Precision) -> bool:
    """Whether a geocoder's match of this precision is good enough to plan an address of this grade: a road for a
    door address is not, and a vague or district-level address trusts no geocoder at all."""
    needed = _NEEDS.get(grade)
    if needed is None or precision is Precision.UNKNOWN:
        return False
    return FINEST_FIRST.index(precision) <= FINEST_FIRST.index(needed)


def point_trusted(source: PointSource | None, grade: AddressGrade, precision: Precision | None) -> bool:
    """Whether planning may route to an address's point: any point a file or a person gave, a geocoder's only when
    it is as precise as the address's text."""
    if source is None:
        return False
    if source is not PointSource.GEOCODER:
        return True
    return precision is not None and trusted(grade, precision)


class GeocodeOutcome(StrEnum):
    """How an address's last geocoding attempt ended: placed (trusted or coarse), found nowhere, or why no provider
    answered. A refused key and a spent quota are the admin's to fix; an outage and a refusal for speed pass."""

    PLACED = "placed"  # a point planning trusts
    COARSE_MATCH = "coarse_match"  # a point coarser than the text (a road, a district): the pre-check asks
    NO_MATCH = "no_match"  # the providers answered and found nothing
    OUTAGE = "outage"  # timeouts, connection failures, 5xx, a busy engine: still there after the retries
    RATE_LIMITED = "rate_limited"  # refused for too many queries a second, still after the retries
    KEY_REFUSED = "key_refused"  # the provider will not serve the key (invalid, expired, not for this service)
    QUOTA_EXHAUSTED = "quota_exhausted"  # a daily or plan quota is spent
    PROVIDER_ERROR = "provider_error"  # any other error: an answer that cannot be read, a parameter refused


GEOCODE_WORDS = {
    GeocodeOutcome.PLACED: "已定位 placed",
    GeocodeOutcome.COARSE_MATCH: "定位粗略 coarse match",
    GeocodeOutcome.NO_MATCH: "未找到 no match",
    GeocodeOutcome.OUTAGE: "服务中断 outage",
    GeocodeOutcome.RATE_LIMITED: "请求过频 rate limited",
    GeocodeOutcome.KEY_REFUSED: "密钥被拒 key refused",
    GeocodeOutcome.QUOTA_EXHAUSTED: "配额用尽 quota exhausted",
    GeocodeOutcome.PROVIDER_ERROR: "服务出错 provider error",
}
ADMINS_TO_FIX = frozenset({GeocodeOutcome.KEY_REFUSED, GeocodeOutcome.QUOTA_EXHAUSTED})


def geocode_label(outcome: GeocodeOutcome) -> str:
    """The outcome in the branch's words with its code beside them: 密钥被拒 key refused (key_refused)."""
    return f"{GEOCODE_WORDS[outcome]} ({outcome.value})"
