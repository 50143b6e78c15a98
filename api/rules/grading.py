"""Read a Chinese address's text into its parts and grade how far down it reaches.

Province, city, district and adcode are the divisions the text starts with (`api.rules.divisions`); the parts
below the district are read by the regular expressions here from what follows them, left to right: a town (街道, 镇,
乡), a road, a lane (弄), a number (号), a compound (小区, 新村, 大厦, a village and its 组 …), a building, a unit and a
room. Pure: no database, no web; `describe` is the one call others use.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, fields

from api.rules import divisions
from api.rules.grades import AddressGrade


@dataclass(frozen=True, slots=True)
class AddressParts:
    """What an address's text names, coarsest first; None where it names nothing."""

    province: str | None = None
    city: str | None = None  # the municipality itself for Shanghai, Beijing, Tianjin and Chongqing
    district: str | None = None
    adcode: str | None = None  # 6-digit 行政区划代码 of the finest area found
    town: str | None = None  # 街道, 镇, 乡
    road: str | None = None  # 路, 街, 大道, 公路, 巷
    lane: str | None = None  # the number of a 弄
    number: str | None = None  # the 号 of the road, or of a house in a village
    compound: str | None = None  # the estate, building complex, landmark or village (with its 组) the text names
    building: str | None = None  # 栋, 幢, 号楼, 座, or the 号 inside a lane or a compound
    unit: str | None = None  # 单元
    room: str | None = None  # 室, 户, 房, or a bare 3-4 digit number after the building
    vague_markers: tuple[str, ...] = ()  # 附近, 旁边, 对面, 拆迁 … in the order found

    def as_dict(self) -> dict[str, str | list[str]]:
        """The members that hold something, JSON-able."""
        members: dict[str, str | list[str]] = {}
        for member in fields(self):
            value = getattr(self, member.name)
            if value:
                members[member.name] = list(value) if isinstance(value, tuple) else value
        return members


# --- characters and suffixes ---------------------------------------------------------------------------------------

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs (unified, extension A, compatibility)
_IDEOGRAPH = re.compile(rf"[{_HAN}\U00020000-\U0003134f]")
_KANA = re.compile("[\u3040-\u30ff]")  # Japanese: kanji alone would pass for Chinese
_ROAD_SUFFIX = "大道|公路|大街|支路|路|街(?![道坊])|巷"  # 街道 is a town, 街坊 a block of a 新村
# a road's name going on after a direction or an ordinal: 南京 + 东路, 中山 + 南二路
_ROAD_TAIL = rf"[东南西北中]{{0,2}}[一二三四五六七八九十\d]{{0,2}}(?:{_ROAD_SUFFIX})"
_ESTATE_SUFFIX = (
    "小区|花园|公寓|大厦|大楼|新村|家园|公馆|山庄|别墅|宿舍|社区|大院|中心|园区|苑|园|庭|府|邸|湾|坊|院|城|村"
)
# a place people know rather than an address: with no number, where in it is anyone's guess
_LANDMARK_SUFFIX = (
    "购物中心|商场|商城|广场|医院|学校|小学|中学|大学|学院|幼儿园|公园|火车站|地铁站|汽车站|车站|站|超市|菜场|"
    "菜市场|市场|银行|酒店|宾馆|饭店|体育馆|体育场|电影院|影院|派出所|法院|政府|码头|机场|寺|庙|教堂|加油站|桥"
)
_LANDMARK = re.compile(rf"(?:{_LANDMARK_SUFFIX})$")
# a rural village (杨王村, 3组) rather than an urban estate named 村 (曹杨新村, 鞍山四村): its 号 is a house's door
_VILLAGE = re.compile(r"(?:(?<![新一二三四五六七八九十\d])村|[组队])$")

# a town first: 陆家嘴街道, 江川路街道 (named after its road), 七宝镇, 川沙新镇; not 新镇路, which is a road
_TOWN = re.compile(rf"[{_HAN}]{{1,8}}?街道|(?:(?![路街])[{_HAN}]){{1,6}}?[镇乡](?!{_ROAD_TAIL})")
_ROAD = re.compile(rf"[{_HAN}]{{1,12}}?(?:{_ROAD_SUFFIX})")  # the first suffix ends it: 银城中路, 世纪大道, 沪南公路
# the longest name ending in a suffix: 梅园新村, not 梅园; 某某花园小区, not 某某花园
_COMPOUND = re.compile(rf"[{_HAN}]{{1,15}}(?:{_ESTATE_SUFFIX}|{_LANDMARK_SUFFIX})")

# demolition in Shanghai's own words (拆迁, 动迁, 征收, 待拆, 棚改) marks the text too; resettlement housing built for
# those moved (拆迁安置房, 动迁房) stands and is an ordinary address
_VAGUE = re.compile(
    r"附近|旁边|旁(?![路街])|斜对面|对面|周边|一带|左右|大概|大约|[已待]?(?:拆迁|动迁)(?!安置|房)|已拆除?|拆除|待拆|"
    r"征收|棚改|往[东南西北里]|[东南西北]侧|隔壁|后面|后边|背后|不详|不清楚|不明|\d+米"
)

# --- normalising ---------------------------------------------------------------------------------------------------

_DASHES = re.compile("[\u2010-\u2015\u2212~〜]")  # hyphens, dashes and the minus sign between 8-2-1201
_DIGIT_GAP = re.compile(r"(?<=\d)\s+(?=\d)")  # "68 1201": two numbers, not 681201
_BLANKS = re.compile(r"[\s\u200b\ufeff]+")
_NUMERAL_VALUES = dict(zip("零〇一二三四五六七八九", (0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_NUMERAL_UNITS = {"十": 10, "百": 100, "千": 1000}
# Chinese numerals counting a building, unit, room, group, lane or floor (三号楼, 十二栋); not those in names
# (鞍山四村, 中山北一路), which no such marker follows
_COUNTED_NUMERAL = re.compile("[零〇一二三四五六七八九十百千]+(?=号|栋|幢|座|单元|室|组|队|弄|楼|层)")


def _numeral_digits(numeral: str) -> str:
    """三 → 3, 十二 → 12, 一百零五 → 105; read digit by digit without a 十, 百 or 千: 一二〇一 → 1201."""
    if not any(unit in numeral for unit in _NUMERAL_UNITS):
        return "".join(str(_NUMERAL_VALUES[char]) for char in numeral)
    total = digit = 0
    for char in numeral:
        if char in _NUMERAL_UNITS:
            total += (digit or 1) * _NUMERAL_UNITS[char]
            digit = 0
        else:
            digit = _NUMERAL_VALUES[char]
    return str(total + digit)


def _normalise(text: str) -> str:
    """Full-width digits, letters and punctuation as ASCII (NFKC), one hyphen, no blanks, Arabic counts."""
    text = _DASHES.sub("-", unicodedata.normalize("NFKC", text))
    text = _BLANKS.sub("", _DIGIT_GAP.sub("|", text))
    return _COUNTED_NUMERAL.sub(lambda match: _numeral_digits(match[0]), text)


def _is_chinese(normalised: str) -> bool:
    return bool(_IDEOGRAPH.search(normalised)) and not _KANA.search(normalised)


# --- province, city, district: the division table ------------------------------------------------------------------

# the branches are in Shanghai: a district name that other cities share (宝山区, 普陀区) is Shanghai's when nothing
# else in the text says which, and a Shanghai district written without its 区 (静安南京西路) is still recognised
_HOME_DISTRICTS = {
    "黄浦区": "310101",
    "徐汇区": "310104",
    "长宁区": "310105",
    "静安区": "310106",
    "普陀区": "310107",
    "虹口区": "310109",
    "杨浦区": "310110",
    "闵行区": "310112",
    "宝山区": "310113",
    "嘉定区": "310114",
    "浦东新区": "310115",
    "金山区": "310116",
    "松江区": "310117",
    "青浦区": "310118",
    "奉贤区": "310120",
    "崇明区": "310151",
}
_HOME_SHORT = {re.sub("新?区$", "", name): name for name in _HOME_DISTRICTS}
_HOME_SHORT_AT_START = re.compile(rf"(?P<head>(?:中国)?(?:上海市?)?)(?P<short>{'|'.join(_HOME_SHORT)})(?!新区|区|县)")
_COUNTRY = "中国"
# an area name cut short (南京 for 南京市) that goes on as a road or a place: 南京东路, 中山公园
_NAME_GOES_ON = re.compile(rf"{_ROAD_TAIL}|(?:{_ESTATE_SUFFIX}|{_LANDMARK_SUFFIX})")


def _restore_home_district(text: str) -> str:
    """静安南京西路 → 静安区南京西路, when the short name is followed by a road, a town, or nothing of a name."""
    start = _HOME_SHORT_AT_START.match(text)
    if start is None:
        return text
    rest = text[start.end() :]
    if re.match(_ROAD_TAIL, rest) or (rest and _IDEOGRAPH.match(rest) and not (_TOWN.match(rest) or _ROAD.match(rest))):
        return text  # 浦东南路 is a road, 静安寺 a temple
    return start["head"] + _HOME_SHORT[start["short"]] + rest


def _areas(text: str) -> tuple[dict[str, str], str]:
    """Province, city, district and adcode named at the start of the text (after 中国), and the text after them."""
    start = len(_COUNTRY) if text.startswith(_COUNTRY) else 0
    head = divisions.read_head(text, start, goes_on=_NAME_GOES_ON, preferred=_HOME_DISTRICTS.values())
    if head is None:
        return {}, text
    named = {"province": head.province, "city": head.city, "district": head.district, "adcode": head.adcode}
    return {member: value for member, value in named.items() if value}, f"{text[:start]}|{text[head.end :]}"


# --- below the district ----------------------------------------------------------------------------------------------

# one token at a time, in this order of preference at each position; anything else (punctuation, Latin) is skipped
_TOKEN = re.compile(
    rf"""
      (?P<shorthand>\d+-\d+-\d+)室?                      # 8-2-1201: building, unit, room
    | (?P<courtyard>\d+)号院                             # 88号院: the compound at a number (Beijing)
    | (?P<building>\d+(?:-\d+)?|[A-Za-z])(?:号楼|\#楼?|栋|幢|座)
    | (?P<hao>\d+(?:-\d+)?)号                           # a road's door, or a building in a lane or compound
    | (?P<pair>\d+-\d{{3,4}})室?(?!\d)                  # 12-302: building, room
    | (?P<unit>\d+)单元
    | (?P<room>\d+)[室户房]
    | (?P<floor>\d+)(?:楼|层|F)                         # a floor: not a part of its own
    | (?P<lane>\d+)弄
    | (?P<group>\d+)[组队]                              # a village's 村民小组 (or 生产队)
    | (?P<digits>\d+)                                   # a bare number: read from what came before it
    | (?P<name>[{_HAN}]+)                               # a town, road, compound …
    """,
    re.VERBOSE,
)

Found = dict[str, str]


def _is_village(compound: str | None) -> bool:
    return compound is not None and _VILLAGE.search(compound) is not None


def _read_name(found: Found, run: str) -> str:
    """A run of Han characters: a town (only before anything else), a road, then a compound; what is left."""
    if not found.keys() & {"town", "road", "compound"} and (town := _TOWN.match(run)):
        found["town"] = town[0]
        run = run[town.end() :]
    if road := _ROAD.match(run):
        found.setdefault("road", road[0])  # a second road is a crossing or a hint (近陕西北路): the first one counts
        run = run[road.end() :]
    if compound := _COMPOUND.match(run):
        found.setdefault("compound", compound[0])
        run = run[compound.end() :]
    return run


def _read_hao(found: Found, value: str) -> None:
    """N号: a room after a building; a house's door in a village; a building in a lane or compound; else a door."""
    if found.keys() & {"building", "unit"}:
        found.setdefault("room", value)
    elif _is_village(found.get("compound")):
        found.setdefault("number", value)
    elif found.keys() & {"lane", "compound", "number"}:
        found.setdefault("building", value)
    else:
        found.setdefault("number", value)


def _read_shorthand(found: Found, value: str) -> None:
    if "building" not in found:
        for key, part in zip(("building", "unit", "room"), value.split("-"), strict=True):
            found.setdefault(key, part)


def _read_pair(found: Found, value: str) -> None:
    """12-302: building and room inside a lane or compound (or after a road's number); a door and room on a road."""
    first, room = value.split("-")
    if "building" in found:
        return
    key = "building" if found.keys() & {"lane", "compound", "number"} else "number"
    found.setdefault(key, first)
    found.setdefault("room", room)


def _read_group(found: Found, value: str) -> None:
    compound = found.get("compound", "")
    if not compound.endswith(("组", "队")):
        found["compound"] = f"{compound}{value}组"


def _read_digits(found: Found, value: str) -> None:
    """A bare number: a room after a building or door (3-4 digits), a building in a lane or estate, a road's door."""
    village = _is_village(found.get("compound"))
    if found.keys() & {"building", "unit", "number"}:
        if 3 <= len(value) <= 4:
            found.setdefault("room", value)
    elif "lane" in found or ("compound" in found and not village):
        found["building"] = value
    elif "road" in found or village:
        found["number"] = value


def _read_courtyard(found: Found, value: str) -> None:
    found.setdefault("compound", f"{value}号院")


def _skip(found: Found, value: str) -> None:
    """A floor (5楼, 12层): read only so that its number is not taken for another part."""


def _setter(key: str) -> Callable[[Found, str], None]:
    def read(found: Found, value: str) -> None:
        found.setdefault(key, value)

    return read


_READERS: dict[str, Callable[[Found, str], None]] = {
    "shorthand": _read_shorthand,
    "courtyard": _read_courtyard,
    "building": _setter("building"),
    "hao": _read_hao,
    "pair": _read_pair,
    "unit": _setter("unit"),
    "room": _setter("room"),
    "floor": _skip,
    "lane": _setter("lane"),
    "group": _read_group,
    "digits": _read_digits,
}
# tokens that only a building inside an estate has: the unread name just before them is the estate's (汤臣一品5栋)
_INSIDE_ESTATE = {"shorthand", "building", "pair", "unit"}


def _below_district(text: str) -> Found:
    found: Found = {}
    unread = ""  # the end of the run of Han characters just before, if no reader took it
    for token in _TOKEN.finditer(text):
        kind = token.lastgroup
        assert kind is not None  # every alternative is one named group
        if kind == "name":
            unread = _read_name(found, token[kind])
            continue
        if kind in _INSIDE_ESTATE and len(unread) >= 2 and "compound" not in found:
            found["compound"] = unread
        unread = ""
        _READERS[kind](found, token[kind])
    return found


# --- the public calls ------------------------------------------------------------------------------------------------


def parse(text: str) -> AddressParts:
    """The parts a Chinese address's text names; empty parts for text that is not Chinese. Never raises."""
    normalised = _normalise(text)
    if not _is_chinese(normalised):
        return AddressParts()
    markers = tuple(dict.fromkeys(match[0] for match in _VAGUE.finditer(normalised)))
    areas, below = _areas(_restore_home_district(_VAGUE.sub("|", normalised)))
    return AddressParts(**areas, **_below_district(below), vague_markers=markers)


def _numbered(parts: AddressParts) -> bool:
    return any((parts.lane, parts.number, parts.building, parts.unit, parts.room))


def _format_grade(text: str) -> AddressGrade | None:
    """UNKNOWN_FORMAT for letters of another script (and Japanese), UNPARSEABLE for no letters; None for Chinese."""
    normalised = unicodedata.normalize("NFKC", text)
    if _is_chinese(normalised):
        return None
    if any(char.isalpha() for char in normalised):
        return AddressGrade.UNKNOWN_FORMAT
    return AddressGrade.UNPARSEABLE


def grade(text: str, parts: AddressParts | None = None) -> AddressGrade:
    """How far down the address reaches, from `parts` (parsed from `text` when not given). Never raises.

    In this order: text with no Chinese is UNKNOWN_FORMAT if it has letters (another country's address), else
    UNPARSEABLE (blank, punctuation, digits alone). VAGUE: a vague marker, or a landmark (公园, 医院, 广场 …) named
    with no number at all, whatever else the text has. Then a place is needed: a road, a lane or a compound.
    COMPLETE: a room in a place; or a door number with no building: a house in a village (村, 组), or a number on a
    road where the text names no compound to enter (银城中路68号, 杨王村3组12号). BUILDING: a building, unit or number
    without a room (722弄8号, 某某小区3号楼, 漕溪北路88号某某大厦). ROAD: the place alone (a road, 722弄, 某某小区).
    DISTRICT: a province, city, district or town, or numbers with no place to hang them on. Else UNPARSEABLE.
    """
    by_format = _format_grade(text)
    if by_format is not None:
        return by_format
    parts = parse(text) if parts is None else parts
    if parts.vague_markers or (parts.compound and _LANDMARK.search(parts.compound) and not _numbered(parts)):
        return AddressGrade.VAGUE
    if parts.road or parts.lane or parts.compound:
        return _place_grade(parts)
    if any((parts.province, parts.city, parts.district, parts.town, _numbered(parts))):
        return AddressGrade.DISTRICT
    return AddressGrade.UNPARSEABLE


def _place_grade(parts: AddressParts) -> AddressGrade:
    door = parts.number and not (parts.building or parts.unit)
    if parts.room or (door and (parts.compound is None or _is_village(parts.compound))):
        return AddressGrade.COMPLETE
    if parts.building or parts.unit or parts.number:
        return AddressGrade.BUILDING
    return AddressGrade.ROAD


def describe(text: str) -> tuple[AddressGrade, AddressParts]:
    """The grade and the parts of an address's text, parsed once."""
    parts = parse(text)
    return grade(text, parts), parts
