"""A visit sheet as the printable page and the CSV export see it: local times, labels, coordinates."""

from zoneinfo import ZoneInfo

from api.branches.models import Branch
from api.sheets.printing import PrintedSheet, PrintedStop
from api.sheets.schemas import VisitSheetRead

_FLAG_LABELS = {"complaint_history": "投诉史 complaint history", "elderly_resident": "老人 elderly resident"}


def printed_sheet(sheet: VisitSheetRead, branch: Branch, office: tuple[float, float]) -> PrintedSheet:
    zone = ZoneInfo(branch.timezone)
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
                purpose=stop.purpose.value.replace("_", " ").capitalize(),
                case_reference=stop.case.reference,
                debtor_name=stop.case.debtor_name,
                flags=tuple(_FLAG_LABELS[flag.value] for flag in stop.care_flags),
                lat=stop.address.point.lat if stop.address.point else route[0][0],
                lon=stop.address.point.lon if stop.address.point else route[0][1],
            )
            for stop in sheet.stops
        ),
    )
