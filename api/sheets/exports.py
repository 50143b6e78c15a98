"""A visit sheet as the printable page and the CSV export see it: local times, labels, coordinates."""

from zoneinfo import ZoneInfo

from api.models.branches import Branch, Language
from api.models.sheets import StopState
from api.models.visit_requests import VisitPurpose
from api.rules.grades import AddressGrade
from api.rules.third_parties import ThirdPartyKind
from api.sheets.printing import PrintedSheet, PrintedStop
from api.sheets.schemas import CareFlag, VisitSheetRead

# each label in Chinese with the English beside it (zh branches), or in English
_PURPOSES = {
    VisitPurpose.FIND_NEW_INFORMATION: ("寻找新信息", "Find new information"),
    VisitPurpose.CONFIRM_ADDRESS: ("确认地址", "Confirm address"),
    VisitPurpose.NEGOTIATE: ("协商还款", "Negotiate"),
    VisitPurpose.DELIVER_LETTER: ("送达信函", "Deliver letter"),
}
_FLAGS = {
    CareFlag.COMPLAINT_HISTORY: ("投诉史", "complaint history"),
    CareFlag.ELDERLY_RESIDENT: ("老人", "elderly resident"),
}
_CANCELLED = ("已取消", "cancelled")
_THIRD_PARTIES = {
    ThirdPartyKind.NEIGHBOUR: ("邻居", "neighbour"),
    ThirdPartyKind.PROPERTY_MANAGEMENT: ("物业", "property management"),
}
# an address that does not reach a door is said on the page, so the agents know to ask around
_GRADES = {
    AddressGrade.BUILDING: ("地址仅到楼栋", "building only"),
    AddressGrade.ROAD: ("地址仅到道路", "road only"),
    AddressGrade.DISTRICT: ("地址仅到区县", "district only"),
    AddressGrade.VAGUE: ("地址模糊", "vague address"),
    AddressGrade.UNPARSEABLE: ("地址无法解析", "unparsed address"),
}


def _words(language: Language, chinese: str, english: str) -> str:
    return f"{chinese} {english}" if language is Language.ZH else english


def printed_sheet(sheet: VisitSheetRead, branch: Branch, office: tuple[float, float]) -> PrintedSheet:
    zone, language = ZoneInfo(branch.timezone), branch.language
    route = tuple((lat, lon) for lon, lat in sheet.route["coordinates"]) if sheet.route else (office, office)
    return PrintedSheet(
        branch=branch.name,
        work_date=sheet.work_date,
        team=sheet.team_name,
        agents=tuple(member.full_name for member in sheet.members),
        version=sheet.version,
        status=sheet.status.value,
        start=route[0],
        end=route[-1],
        route=route,
        distance_m=sheet.distance_m,
        travel_s=sheet.travel_s,
        stops=tuple(
            PrintedStop(
                position=stop.position,
                arrival=stop.starts_at.astimezone(zone).strftime("%H:%M"),
                departure=stop.departs_at.astimezone(zone).strftime("%H:%M"),
                address=stop.address.raw_text,
                purpose=_words(language, *_PURPOSES[stop.purpose]),
                case_reference=stop.case.reference,
                debtor_name=stop.case.debtor_name,
                flags=(
                    *((_words(language, *_CANCELLED),) if stop.state is StopState.CANCELLED else ()),
                    *(_words(language, *_FLAGS[flag]) for flag in stop.care_flags),
                    *((_words(language, *_GRADES[stop.address.grade]),) if stop.address.grade in _GRADES else ()),
                ),
                lat=stop.address.point.lat if stop.address.point else route[0][0],
                lon=stop.address.point.lon if stop.address.point else route[0][1],
                notes=stop.collector_notes,
                asked_before=tuple(
                    f"{_words(language, *_THIRD_PARTIES[asked.kind])} {asked.who}"
                    f" ({asked.asked_at.astimezone(zone):%Y-%m-%d})"
                    for asked in stop.third_parties_asked
                ),
            )
            for stop in sheet.stops
        ),
        language=language.value,
    )
