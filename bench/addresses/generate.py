"""Seeded Shanghai addresses in the shapes agents and debtors write, each with the grade its shape has.

Real district, road, town, village, estate and landmark names; a share of them with the typos of real data (a
dropped 区 or 市, full-width digits, a close but wrong road suffix, stray spaces), which change no grade. The truth
comes from the shape (a lane, a building and a room is complete whatever the grader reads), never from the grader.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass

from api.rules.grades import AddressGrade

ROADS: dict[str, tuple[str, ...]] = {
    "浦东新区": (
        "银城中路", "世纪大道", "张杨路", "浦东南路", "东方路", "源深路", "杨高中路", "锦绣路", "芳甸路", "花木路",
        "龙阳路", "川沙路", "沪南公路", "浦建路", "张江路", "金科路", "罗山路", "上南路",
    ),
    "徐汇区": (
        "漕溪北路", "衡山路", "天钥桥路", "肇嘉浜路", "宜山路", "虹桥路", "淮海中路", "康健路", "田林路", "桂林路",
        "钦州路", "龙华西路", "中山南二路", "吴中路",
    ),
    "静安区": (
        "南京西路", "延安中路", "威海路", "北京西路", "常德路", "江宁路", "陕西北路", "昌平路", "武定路", "新闸路",
        "共和新路", "大宁路",
    ),
    "闵行区": (
        "七莘路", "漕宝路", "虹梅路", "莲花南路", "沪闵路", "都市路", "古美路", "平阳路", "龙茗路", "银都路",
        "春申路", "东川路", "剑川路",
    ),
    "杨浦区": ("四平路", "国定路", "黄兴路", "控江路", "长阳路", "平凉路", "杨树浦路", "邯郸路", "政立路", "营口路"),
    "黄浦区": ("南京东路", "西藏中路", "福州路", "河南中路", "四川中路", "复兴中路", "陆家浜路", "中华路", "人民路"),
}  # fmt: skip
TOWNS: dict[str, tuple[str, ...]] = {
    "浦东新区": ("张江镇", "北蔡镇", "三林镇", "周浦镇", "康桥镇", "川沙新镇", "陆家嘴街道", "花木街道"),
    "徐汇区": ("徐家汇街道", "天平路街道", "田林街道", "漕河泾街道", "华泾镇"),
    "静安区": ("南京西路街道", "江宁路街道", "彭浦镇", "大宁路街道"),
    "闵行区": ("七宝镇", "莘庄镇", "颛桥镇", "梅陇镇", "虹桥镇", "古美路街道"),
    "杨浦区": ("五角场街道", "控江路街道", "长白新村街道", "平凉路街道"),
    "黄浦区": ("外滩街道", "南京东路街道", "豫园街道", "打浦桥街道"),
}
VILLAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "奉贤区": {"南桥镇": ("杨王村",), "青村镇": ("吴房村", "李窑村"), "庄行镇": ("潘垫村", "新叶村")},
    "青浦区": {"朱家角镇": ("张马村", "林家村"), "练塘镇": ("东厍村",), "金泽镇": ("莲湖村",)},
    "金山区": {"枫泾镇": ("新义村", "中洪村"), "廊下镇": ("山塘村",), "吕巷镇": ("和平村",)},
    "崇明区": {"陈家镇": ("瀛东村",), "竖新镇": ("仙桥村",), "港西镇": ("北双村",)},
    "松江区": {"泖港镇": ("腰泾村",), "新浜镇": ("胡家埭村",)},
}
# estates as people write them; a few real names carry no estate word at all (汤臣一品, 翠湖天地)
ESTATES = (
    "仁恒滨江园", "世茂滨江花园", "中远两湾城", "古北国际花园", "万科城市花园", "碧云国际社区", "联洋花园",
    "曹杨新村", "鞍山四村", "控江二村", "康健新村", "田林十二村", "梅园新村", "长白新村", "新凯家园", "三湘花园",
    "春申城", "龙柏新村", "平阳小区", "莲花小区", "古美西苑", "金杨新村", "东方城市花园", "盛世年华公寓",
    "汤臣一品", "翠湖天地", "东方曼哈顿",
)  # fmt: skip
TOWERS = ("恒隆广场", "中信泰富广场", "环球金融中心", "金茂大厦", "圣爱大厦", "来福士广场", "嘉里中心", "越洋广场")
LANDMARKS = (
    "世纪公园", "人民广场", "中山公园", "徐家汇公园", "上海火车站", "上海南站", "虹桥火车站", "瑞金医院", "华山医院",
    "中山医院", "复旦大学", "同济大学", "静安寺", "龙华寺", "城隍庙", "正大广场", "第六人民医院", "五角场万达广场",
)  # fmt: skip
NOT_ADDRESSES = ("", "？？？", "同上", "电话联系", "见备注", "---")
FOREIGN = (
    "221B Baker Street, London NW1 6XE",
    "1600 Amphitheatre Pkwy, Mountain View, CA 94043",
    "10 Downing Street, London SW1A 2AA",
    "Unter den Linden 77, 10117 Berlin",
    "No. 722 Yincheng Middle Road, Pudong, Shanghai",
)
NEAR = ("附近", "旁边", "对面", "周边", "一带", "隔壁")
CLOSE_SUFFIX = {"大道": "路", "公路": "路", "路": "街", "街": "路"}  # a wrong but close road suffix
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
DIGITS = "一二三四五六七八九"


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    grade: AddressGrade
    shape: str  # how it was made, to look into the ones graded otherwise


def _chinese(number: int) -> str:
    """1..99 in Chinese numerals: 3 → 三, 12 → 十二, 40 → 四十."""
    tens, ones = divmod(number, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else DIGITS[tens - 1] + "十")
    return head + (DIGITS[ones - 1] if ones else "")


class _Maker:
    """One generated address's random parts, drawn from one seeded random source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.district = rng.choice(list(ROADS))

    def prefix(self) -> str:
        """上海市浦东新区, 浦东新区 or 上海浦东新区 (a dropped 市 is one of the typos, added later)."""
        return self.rng.choice(("上海市", "", "")) + self.district

    def road(self) -> str:
        return self.rng.choice(ROADS[self.district])

    def door(self) -> str:
        return f"{self.rng.randint(1, 3000)}号"

    def lane(self) -> str:
        return f"{self.rng.randint(1, 2000)}弄"

    def building(self, markers: tuple[str, ...] = ("栋", "幢", "号楼")) -> str:
        number = self.rng.randint(1, 40)
        spelled = _chinese(number) if self.rng.random() < 0.2 else str(number)
        return spelled + self.rng.choice(markers)

    def room_number(self) -> str:
        return f"{self.rng.randint(1, 33)}{self.rng.randint(1, 8):02d}"

    def room(self) -> str:
        return self.room_number() + self.rng.choice(("室", "室", "室", ""))

    def unit(self) -> str:
        number = self.rng.randint(1, 6)
        return (_chinese(number) if self.rng.random() < 0.2 else str(number)) + "单元"

    def estate(self) -> str:
        """An estate, after its road and number half of the time."""
        lead = self.road() + self.rng.choice((self.door(), self.lane())) if self.rng.random() < 0.5 else ""
        return self.prefix() + lead + self.rng.choice(ESTATES)

    def rural(self) -> str:
        district = self.rng.choice(list(VILLAGES))
        town = self.rng.choice(list(VILLAGES[district]))
        return self.rng.choice(("上海市", "")) + district + town + self.rng.choice(VILLAGES[district][town])


Shape = Callable[[_Maker], str]

SHAPES: dict[AddressGrade, dict[str, Shape]] = {
    AddressGrade.COMPLETE: {
        "road+door+room": lambda m: m.prefix() + m.road() + m.door() + m.room(),
        "road+door": lambda m: m.prefix() + m.road() + m.door(),
        "lane+building+room": lambda m: m.prefix() + m.road() + m.lane() + f"{m.rng.randint(1, 80)}号" + m.room(),
        "estate+building+unit+room": lambda m: m.estate() + m.building() + m.unit() + m.room(),
        "estate+X-Y-Z": lambda m: m.estate() + f"{m.rng.randint(1, 40)}-{m.rng.randint(1, 6)}-{m.room_number()}",
        "tower+room": lambda m: m.prefix() + m.road() + m.door() + m.rng.choice(TOWERS) + m.room(),
        "village+group+door": lambda m: m.rural() + f"{m.rng.randint(1, 12)}组{m.rng.randint(1, 300)}号",
        "village+door": lambda m: m.rural() + f"{m.rng.randint(1, 900)}号",
        "landmark+building+room": lambda m: m.rng.choice(LANDMARKS) + m.building(("号楼",)) + m.room(),
    },
    AddressGrade.BUILDING: {
        "lane+building": lambda m: m.prefix() + m.road() + m.lane() + f"{m.rng.randint(1, 80)}号",
        "estate+building": lambda m: m.estate() + m.building(),
        "estate+building+unit": lambda m: m.estate() + m.building() + m.unit(),
        "road+door+building": lambda m: m.prefix() + m.road() + m.door() + m.building(("号楼",)),
        "road+door+tower": lambda m: m.prefix() + m.road() + m.door() + m.rng.choice(TOWERS),
        "landmark+building": lambda m: m.prefix() + m.rng.choice(LANDMARKS) + m.building(("号楼",)),
    },
    AddressGrade.ROAD: {
        "road": lambda m: m.prefix() + m.road(),
        "road+lane": lambda m: m.prefix() + m.road() + m.lane(),
        "estate": lambda m: m.prefix() + m.rng.choice(ESTATES),
        "village": lambda m: m.rural(),
        "village+group": lambda m: m.rural() + f"{m.rng.randint(1, 12)}组",
    },
    AddressGrade.DISTRICT: {
        "district": lambda m: m.prefix(),
        "district+town": lambda m: m.prefix() + m.rng.choice(TOWNS[m.district]),
    },
    AddressGrade.VAGUE: {
        "landmark+near": lambda m: m.rng.choice(LANDMARKS) + m.rng.choice(NEAR),
        "estate+near": lambda m: m.prefix() + m.road() + m.rng.choice(ESTATES) + m.rng.choice(NEAR),
        "door+opposite": lambda m: m.prefix() + m.road() + m.door() + m.rng.choice(("对面", "斜对面", "附近")),
        "landmark": lambda m: m.rng.choice((m.prefix(), "")) + m.rng.choice(LANDMARKS),
        "demolished": lambda m: m.prefix() + m.road() + m.lane() + m.rng.choice(("（已拆迁）", "已拆", " 拆迁")),
        "directions": lambda m: m.prefix() + m.road() + "与" + m.road() + "路口往" + m.rng.choice("东南西北") + "200米",
    },
    AddressGrade.UNPARSEABLE: {"not an address": lambda m: m.rng.choice(NOT_ADDRESSES)},
    AddressGrade.UNKNOWN_FORMAT: {"foreign": lambda m: m.rng.choice(FOREIGN)},
}
SHARES = {
    AddressGrade.COMPLETE: 0.35,
    AddressGrade.BUILDING: 0.15,
    AddressGrade.ROAD: 0.15,
    AddressGrade.DISTRICT: 0.10,
    AddressGrade.VAGUE: 0.20,
    AddressGrade.UNPARSEABLE: 0.025,
    AddressGrade.UNKNOWN_FORMAT: 0.025,
}
TYPO_SHARE = 0.3


def _drop_district_suffix(rng: random.Random, text: str) -> str:
    for district in (*ROADS, *VILLAGES):
        if district in text:
            return text.replace(district, district.removesuffix("区").removesuffix("新"), 1)
    return text


def _close_suffix(rng: random.Random, text: str) -> str:
    for road in (road for roads in ROADS.values() for road in roads):
        if road in text:
            suffix = next(suffix for suffix in CLOSE_SUFFIX if road.endswith(suffix))
            return text.replace(road, road.removesuffix(suffix) + CLOSE_SUFFIX[suffix], 1)
    return text


def _stray_spaces(rng: random.Random, text: str) -> str:
    """One to three spaces (ASCII or ideographic), never inside a number."""
    for _ in range(rng.randint(1, 3)):
        cuts = [i for i in range(1, len(text)) if not (text[i - 1].isdigit() and text[i].isdigit())]
        if cuts:
            cut = rng.choice(cuts)
            text = text[:cut] + rng.choice((" ", "　")) + text[cut:]
    return text


TYPOS: tuple[Callable[[random.Random, str], str], ...] = (
    _drop_district_suffix,
    lambda rng, text: text.replace("上海市", "上海", 1),
    lambda rng, text: text.translate(FULL_WIDTH),
    _close_suffix,
    _stray_spaces,
)


def generate(count: int = 2000, seed: int = 1) -> list[Sample]:
    """`count` addresses with their true grades, the same for the same seed."""
    rng = random.Random(seed)
    grades, weights = list(SHARES), list(SHARES.values())
    samples = []
    for _ in range(count):
        truth = rng.choices(grades, weights)[0]
        shape, make = rng.choice(list(SHAPES[truth].items()))
        text = make(_Maker(rng))
        if truth not in (AddressGrade.UNPARSEABLE, AddressGrade.UNKNOWN_FORMAT) and rng.random() < TYPO_SHARE:
            text = rng.choice(TYPOS)(rng, text)
            shape += " (typo)"
        samples.append(Sample(text, truth, shape))
    return samples
