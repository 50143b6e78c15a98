"""Demo data for `fieldvisit demo seed`: a Shanghai branch with its people, teams for tomorrow, about sixty cases
with addresses across the city, and a visit request for tomorrow for every address that can be visited.

Everything is invented: names, resident ID numbers (their check digits are valid), phone numbers, rooms. A point is
a WGS84 position on the named road, moved by at most about 200 m. The data comes from a seeded `Random`, so every
seed gives the same cases. Every demo account has the password `DEMO_PASSWORD`. It is printed and public, so never
seed a database that real people use.
"""

from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from random import Random
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth.security import hash_password
from api.branches.service import local_today
from api.db import utcnow
from api.geo import GeoPoint
from api.models.branches import Branch
from api.models.cases import (
    Address,
    AddressKind,
    AddressValidity,
    ContactKind,
    ContactSource,
    DebtCase,
    DebtorContact,
    InvalidReason,
    OverdueBucket,
)
from api.models.teams import Team, TeamMember
from api.models.users import Role, User
from api.models.visit_requests import VisitPurpose, VisitRequest
from api.rules.grades import PointSource
from api.rules.packs import Jurisdiction

BRANCH_NAME = "上海浦东分公司 Shanghai Pudong"
TIMEZONE = "Asia/Shanghai"
DEMO_PASSWORD = "fieldvisit-demo"  # demo only: printed by the CLI, never for real accounts
_SEED = 2026
_OFFICE_ADDRESS = "上海市浦东新区世纪大道100号 上海环球金融中心"
_OFFICE = GeoPoint(lat=31.2367, lon=121.5028)
_JITTER_DEG = 0.0018

# username, role, full name, team on the work date
_PEOPLE: list[tuple[str, Role, str, str | None]] = [
    ("admin", Role.ADMIN, "黄海燕", None),
    ("supervisor", Role.SUPERVISOR, "陈志明", None),
    ("collector", Role.PHONE_COLLECTOR, "林晓红", None),
    ("agent1", Role.AGENT, "王建平", "外访一组"),
    ("agent2", Role.AGENT, "李志勇", "外访一组"),
    ("agent3", Role.AGENT, "张国强", "外访二组"),
    ("agent4", Role.AGENT, "刘海波", "外访二组"),
    ("agent5", Role.AGENT, "赵文杰", "外访三组"),
    ("agent6", Role.AGENT, "孙丽萍", "外访三组"),
    ("agent7", Role.AGENT, "周斌", "外访四组"),
    ("agent8", Role.AGENT, "吴晓军", "外访四组"),
]

# debtor name, sex (decides the parity of the ID number's sequence code), birth year
_DEBTORS: list[tuple[str, str, int]] = [
    ("张伟", "男", 1985),
    ("王芳", "女", 1990),
    ("李娜", "女", 1988),
    ("陈杰", "男", 1983),
    ("杨帆", "男", 1995),
    ("黄丽", "女", 1979),
    ("赵磊", "男", 1987),
    ("吴婷婷", "女", 1996),
    ("周俊", "男", 1991),
    ("徐敏", "女", 1984),
    ("沈建国", "男", 1956),
    ("孙浩然", "男", 1998),
    ("马晓东", "男", 1976),
    ("朱丽华", "女", 1968),
    ("胡文斌", "男", 1972),
    ("郭静", "女", 1993),
    ("何志强", "男", 1981),
    ("林佳怡", "女", 1999),
    ("高峰", "男", 1978),
    ("罗雪梅", "女", 1986),
    ("陆秀英", "女", 1953),
    ("郑凯", "男", 1994),
    ("梁晓燕", "女", 1980),
    ("谢宇航", "男", 2000),
    ("宋丹丹", "女", 1989),
    ("唐明", "男", 1974),
    ("许诺", "女", 1997),
    ("韩冬", "男", 1982),
    ("冯玉兰", "女", 1962),
    ("邓超", "男", 1990),
    ("顾根宝", "男", 1949),
    ("曹静怡", "女", 1995),
    ("彭立新", "男", 1966),
    ("曾小青", "女", 1977),
    ("肖鹏", "男", 1988),
    ("田甜", "女", 1992),
    ("董建华", "男", 1969),
    ("袁媛", "女", 1985),
    ("潘永刚", "男", 1971),
    ("蒋欣", "女", 1994),
    ("朱桂芳", "女", 1958),
    ("蔡伟民", "男", 1964),
    ("余佳", "女", 1991),
    ("杜海涛", "男", 1983),
    ("叶倩", "女", 1987),
    ("程亮", "男", 1979),
    ("苏晓", "女", 2001),
    ("魏东", "男", 1975),
    ("吕芳", "女", 1982),
    ("丁一凡", "男", 1996),
    ("沈佳慧", "女", 1993),
    ("任强", "男", 1986),
    ("姚雯", "女", 1990),
    ("钱国平", "男", 1963),
    ("金美玲", "女", 1973),
    ("施振华", "男", 1967),
    ("俞婷", "女", 1998),
    ("顾晨", "男", 1989),
    ("陆逸", "男", 1997),
    ("倪红", "女", 1970),
]
_RETIREMENT_BIRTH_YEAR = 1965  # born earlier: no work address
_WORK_ADDRESS_RATE = 0.3
_ELDERLY_BIRTH_YEAR = 1960  # born earlier: the agents are asked to take care

# household registration codes of Shanghai's urban districts; 卢湾 (310103) and 闸北 (310108) were merged into
# 黄浦 and 静安 but stay on older cards
_ID_REGIONS = [
    "310101",
    "310103",
    "310104",
    "310105",
    "310106",
    "310107",
    "310108",
    "310109",
    "310110",
    "310112",
    "310115",
]
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

_MOBILE_PREFIXES = [
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "152",
    "158",
    "159",
    "166",
    "177",
    "180",
    "186",
    "189",
    "199",
]

# district, road, a WGS84 point on that road well inside the district
_STREETS: list[tuple[str, str, float, float]] = [
    ("黄浦区", "南京东路", 31.2385, 121.4825),
    ("黄浦区", "马当路", 31.2170, 121.4750),
    ("黄浦区", "瑞金南路", 31.2045, 121.4690),
    ("黄浦区", "复兴东路", 31.2230, 121.4920),
    ("黄浦区", "陆家浜路", 31.2100, 121.4850),
    ("徐汇区", "漕溪北路", 31.1890, 121.4370),
    ("徐汇区", "衡山路", 31.2050, 121.4450),
    ("徐汇区", "宜山路", 31.1790, 121.4230),
    ("徐汇区", "田林路", 31.1720, 121.4300),
    ("徐汇区", "斜土路", 31.1970, 121.4520),
    ("静安区", "南京西路", 31.2255, 121.4500),
    ("静安区", "天目西路", 31.2470, 121.4560),
    ("静安区", "共和新路", 31.2790, 121.4580),
    ("静安区", "临汾路", 31.3050, 121.4480),
    ("静安区", "江宁路", 31.2370, 121.4480),
    ("长宁区", "长宁路", 31.2190, 121.4200),
    ("长宁区", "天山路", 31.2130, 121.4000),
    ("长宁区", "仙霞路", 31.2060, 121.3900),
    ("长宁区", "古北路", 31.2030, 121.4040),
    ("长宁区", "定西路", 31.2150, 121.4250),
    ("普陀区", "曹杨路", 31.2400, 121.4200),
    ("普陀区", "金沙江路", 31.2320, 121.4030),
    ("普陀区", "铜川路", 31.2480, 121.4060),
    ("普陀区", "长寿路", 31.2420, 121.4400),
    ("虹口区", "四川北路", 31.2610, 121.4840),
    ("虹口区", "曲阳路", 31.2780, 121.4860),
    ("虹口区", "凉城路", 31.2900, 121.4760),
    ("虹口区", "东大名路", 31.2500, 121.5000),
    ("虹口区", "欧阳路", 31.2700, 121.4920),
    ("杨浦区", "淞沪路", 31.3040, 121.5150),
    ("杨浦区", "国权路", 31.2950, 121.5070),
    ("杨浦区", "四平路", 31.2830, 121.5040),
    ("杨浦区", "控江路", 31.2710, 121.5280),
    ("杨浦区", "平凉路", 31.2610, 121.5300),
    ("杨浦区", "黄兴路", 31.2840, 121.5300),
    ("浦东新区", "浦东南路", 31.2320, 121.5120),
    ("浦东新区", "张杨路", 31.2300, 121.5300),
    ("浦东新区", "锦绣路", 31.2080, 121.5520),
    ("浦东新区", "祖冲之路", 31.2040, 121.5950),
    ("浦东新区", "金杨路", 31.2600, 121.5600),
    ("浦东新区", "上南路", 31.1650, 121.4990),
    ("浦东新区", "浦建路", 31.2050, 121.5250),
    ("闵行区", "莘松路", 31.1060, 121.3880),
    ("闵行区", "都市路", 31.1130, 121.3800),
    ("闵行区", "古美路", 31.1470, 121.3930),
    ("闵行区", "七莘路", 31.1530, 121.3580),
    ("闵行区", "春申路", 31.1010, 121.4200),
    ("闵行区", "东川路", 31.0240, 121.4150),
]
_UNPLACED_HOMES = 2  # homes the geocoder could not place: no point
_COMPOUNDS = ["金色家园", "阳光花苑", "春江花园", "明珠新苑", "景明花园", "和平公寓", "绿洲城市花园", "康乐小区"]
_OFFICE_BUILDINGS = ["科技大厦", "商务中心", "国际广场", "汇智大厦", "时代大厦", "创业园B座"]

# raw text, point (None: could not be placed), reason, the agent's note
_INVALID_HOMES: list[tuple[str, GeoPoint | None, InvalidReason, str]] = [
    (
        "上海市黄浦区董家渡路216弄8号",
        GeoPoint(lat=31.2160, lon=121.4990),
        InvalidReason.DEMOLISHED,
        "整片旧改已拆除，现场为工地围挡。",
    ),
    ("上海市普陀区真如镇附近", None, InvalidReason.VAGUE, "只有镇名，没有路名和门牌号，无法定位。"),
]

# window start, window end, note for the agents; weight
_WINDOWS: list[tuple[time | None, time | None, str, int]] = [
    (None, None, "", 6),
    (time(9, 0), time(12, 0), "债务人上午在家。", 2),
    (time(14, 0), time(17, 0), "家属下午在家，可先了解情况。", 1),
    (time(18, 0), time(20, 30), "债务人白天上班，请晚上上门。", 2),
]
_PRIORITY_WEIGHTS = (1, 2, 4, 2, 1)  # priorities 1..5
_MIN_OWED, _MAX_OWED = 2_000, 300_000  # CNY
_COMPLAINT_RATE = 0.12
_COMPLAINT_NOTE = "曾投诉催收方式：两人同行，全程录音，语气平和。"
_ELDERLY_NOTE = "债务人年事已高，注意沟通方式。"


class DemoUsernamesTaken(RuntimeError):
    """Accounts with demo usernames exist outside the demo branch, so the demo cannot be seeded."""


class DemoLogin(NamedTuple):
    username: str
    role: Role
    team: str | None


@dataclass(frozen=True)
class DemoSeed:
    created: bool  # False: the demo branch existed and nothing was written
    branch_name: str
    work_date: date  # the date the teams are for: the branch's tomorrow when seeded
    logins: tuple[DemoLogin, ...]
    password: str = DEMO_PASSWORD
    timezone: str = TIMEZONE


def seed_demo(session: Session, today: date | None = None) -> DemoSeed:
    """Create the demo branch, its people, teams, cases and visit requests; flushes, the caller commits.
    Teams and visit requests are for the day after `today` (default: the branch's local today)."""
    existing = session.scalar(select(Branch).where(Branch.name == BRANCH_NAME))
    if existing is not None:
        seeded_for = session.scalar(select(func.max(Team.work_date)).where(Team.branch_id == existing.id))
        return _result(created=False, work_date=seeded_for or _tomorrow(existing, today))
    _ensure_usernames_free(session)
    branch = Branch(
        name=BRANCH_NAME,
        timezone=TIMEZONE,
        office_address=_OFFICE_ADDRESS,
        office_point=_OFFICE.to_wkt(),
        jurisdiction=Jurisdiction.CN,
    )
    session.add(branch)
    session.flush()
    work_date = _tomorrow(branch, today)
    users = _create_people(session, branch)
    _create_teams(session, branch, users, work_date)
    _create_cases(session, branch, users["collector"], work_date, Random(_SEED))
    return _result(created=True, work_date=work_date)


def _check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a PRC resident ID number."""
    return "10X98765432"[sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def _result(created: bool, work_date: date) -> DemoSeed:
    logins = tuple(DemoLogin(username, role, team) for username, role, _, team in _PEOPLE)
    return DemoSeed(created=created, branch_name=BRANCH_NAME, work_date=work_date, logins=logins)


def _tomorrow(branch: Branch, today: date | None) -> date:
    return (today or local_today(branch)) + timedelta(days=1)


def _ensure_usernames_free(session: Session) -> None:
    taken = session.scalars(select(User.username).where(User.username.in_([p[0] for p in _PEOPLE]))).all()
    if taken:
        names = ", ".join(sorted(taken))
        raise DemoUsernamesTaken(f"Rename or remove these accounts before seeding the demo: {names}.")


def _create_people(session: Session, branch: Branch) -> dict[str, User]:
    password_hash = hash_password(DEMO_PASSWORD)  # one slow argon2 hash: the password is shared and public anyway
    users = {
        username: User(
            username=username,
            full_name=full_name,
            role=role,
            branch_id=None if role is Role.ADMIN else branch.id,
            password_hash=password_hash,
            active=True,
        )
        for username, role, full_name, _ in _PEOPLE
    }
    session.add_all(users.values())
    session.flush()
    return users


# the first crew takes complaint cases; the last one works the evening, when many debtors are at home
_TEAM_DAYS: tuple[dict[str, object], ...] = (
    dict(experienced=True, break_from=time(11, 30), break_until=time(13, 30), break_minutes=45),
    dict(break_from=time(11, 30), break_until=time(13, 30), break_minutes=45),
    dict(break_from=time(11, 30), break_until=time(13, 30), break_minutes=45),
    dict(
        shift_start=time(12, 0),
        shift_end=time(21, 0),
        break_from=time(16, 30),
        break_until=time(18, 0),
        break_minutes=45,
    ),
)


def _create_teams(session: Session, branch: Branch, users: dict[str, User], work_date: date) -> None:
    crews: dict[str, list[User]] = {}
    for username, _, _, team_name in _PEOPLE:
        if team_name is not None:
            crews.setdefault(team_name, []).append(users[username])
    for index, (team_name, agents) in enumerate(crews.items()):
        team = Team(branch_id=branch.id, work_date=work_date, name=team_name, **_TEAM_DAYS[index % len(_TEAM_DAYS)])
        team.members = [
            TeamMember(seat=seat, agent_id=agent.id, branch_id=branch.id, work_date=work_date)
            for seat, agent in enumerate(agents, start=1)
        ]
        session.add(team)


def _create_cases(session: Session, branch: Branch, collector: User, work_date: date, rng: Random) -> None:
    numbers = sorted(rng.sample(range(100, 5000), len(_DEBTORS)))
    special = rng.sample(range(len(_DEBTORS)), _UNPLACED_HOMES + len(_INVALID_HOMES))
    not_placed = set(special[:_UNPLACED_HOMES])
    invalid_homes = dict(zip(special[_UNPLACED_HOMES:], _INVALID_HOMES, strict=True))
    visitable: list[tuple[DebtCase, Address]] = []
    for index, (name, sex, birth_year) in enumerate(_DEBTORS):
        case = _case(rng, branch, collector, f"SH-{work_date.year}-{numbers[index]:06d}", name, sex, birth_year)
        case.contacts = _contacts(rng, name)
        if index in invalid_homes:
            case.addresses = [_invalid_home(*invalid_homes[index])]
        else:
            home = _home(rng, _STREETS[index % len(_STREETS)], placed=index not in not_placed)
            works = birth_year >= _RETIREMENT_BIRTH_YEAR and rng.random() < _WORK_ADDRESS_RATE
            case.addresses = [home, _work(rng)] if works else [home]
            visitable.append((case, home))
        session.add(case)
    session.flush()
    session.add_all(_visit_request(rng, case, home, collector, work_date) for case, home in visitable)
    session.flush()


def _case(
    rng: Random, branch: Branch, collector: User, reference: str, name: str, sex: str, birth_year: int
) -> DebtCase:
    complaint = rng.random() < _COMPLAINT_RATE
    notes = (_COMPLAINT_NOTE if complaint else "") + (_ELDERLY_NOTE if birth_year < _ELDERLY_BIRTH_YEAR else "")
    return DebtCase(
        branch_id=branch.id,
        reference=reference,
        debtor_name=name,
        debtor_id_number=_id_number(rng, sex, date(birth_year, rng.randint(1, 12), rng.randint(1, 28))),
        amount_owed=Decimal(f"{_MIN_OWED * (_MAX_OWED / _MIN_OWED) ** rng.random():.2f}"),  # small debts are common
        currency="CNY",
        overdue_bucket=rng.choice(list(OverdueBucket)),
        complaint_history=complaint,
        phone_collector_id=collector.id,
        notes=notes,
    )


def _id_number(rng: Random, sex: str, birth: date) -> str:
    sequence = rng.randrange(500) * 2 + (1 if sex == "男" else 0)  # odd for men, even for women
    first17 = f"{rng.choice(_ID_REGIONS)}{birth:%Y%m%d}{sequence:03d}"
    return first17 + _check_digit(first17)


def _contacts(rng: Random, name: str) -> list[DebtorContact]:
    phones: list[str] = []
    for _ in range(rng.randint(1, 2)):
        phone = f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        if phone not in phones:
            phones.append(phone)
    return [
        DebtorContact(phone=phone, kind=ContactKind.MOBILE, source=ContactSource.CASE_FILE, holder=name, notes="")
        for phone in phones
    ]


def _point(rng: Random, lat: float, lon: float) -> GeoPoint:
    return GeoPoint(
        lat=round(lat + rng.uniform(-_JITTER_DEG, _JITTER_DEG), 6),
        lon=round(lon + rng.uniform(-_JITTER_DEG, _JITTER_DEG), 6),
    )


def _home(rng: Random, street: tuple[str, str, float, float], placed: bool) -> Address:
    district, road, lat, lon = street
    room = f"{rng.randint(1, 6)}{rng.randint(1, 4):02d}室"
    if rng.random() < 0.5:  # an old lane estate (弄) or a newer compound of towers
        place = f"{road}{rng.randint(1, 120) * 10}弄{rng.randint(1, 40)}号{room}"
    else:
        tower = f"{rng.randint(1, 12)}号楼{rng.randint(2, 28)}{rng.randint(1, 4):02d}室"
        place = f"{road}{rng.randint(1, 1500)}号{rng.choice(_COMPOUNDS)}{tower}"
    return Address(
        kind=AddressKind.HOME,
        raw_text=f"上海市{district}{place}",
        point=_point(rng, lat, lon).to_wkt() if placed else None,
        point_source=PointSource.IMPORT if placed else None,
        point_set_at=utcnow() if placed else None,
        source=ContactSource.CASE_FILE,
        invalid_note="",
    )


def _work(rng: Random) -> Address:
    district, road, lat, lon = rng.choice(_STREETS)
    building = f"{rng.randint(1, 2000)}号{rng.choice(_OFFICE_BUILDINGS)}{rng.randint(2, 30)}楼"
    return Address(
        kind=AddressKind.WORK,
        raw_text=f"上海市{district}{road}{building}",
        point=_point(rng, lat, lon).to_wkt(),
        point_source=PointSource.IMPORT,
        point_set_at=utcnow(),
        source=ContactSource.CASE_FILE,
        invalid_note="",
    )


def _invalid_home(raw_text: str, point: GeoPoint | None, reason: InvalidReason, note: str) -> Address:
    return Address(
        kind=AddressKind.HOME,
        raw_text=raw_text,
        point=point.to_wkt() if point else None,
        point_source=PointSource.IMPORT if point else None,
        point_set_at=utcnow() if point else None,
        source=ContactSource.CASE_FILE,
        validity=AddressValidity.REPORTED_INVALID,
        invalid_reason=reason,
        invalid_note=note,
    )


def _visit_request(rng: Random, case: DebtCase, home: Address, collector: User, work_date: date) -> VisitRequest:
    start, end, note, _ = rng.choices(_WINDOWS, weights=[window[3] for window in _WINDOWS])[0]
    return VisitRequest(
        case_id=case.id,
        address_id=home.id,
        purpose=rng.choice(list(VisitPurpose)),
        priority=rng.choices(range(1, 6), weights=_PRIORITY_WEIGHTS)[0],
        requested_by_id=collector.id,
        earliest_date=work_date,
        latest_date=work_date,
        window_start=start,
        window_end=end,
        notes=note,
    )
