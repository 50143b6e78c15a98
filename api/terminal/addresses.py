"""`fieldvisit addresses …`: geocoding and the pre-check from a terminal, with a progress bar and a summary."""

from datetime import date, timedelta

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from api.addresses.geocoders import configured_geocoders
from api.addresses.precheck import PrecheckSummary, check_day
from api.addresses.service import GeocodeSummary, geocode_unplaced
from api.branches.service import local_today
from api.config import Settings
from api.roads.travel import Travel
from api.rules.grades import GeocodeOutcome, geocode_label
from api.terminal.planning import PlanFailed, find_branch


def geocode_in_terminal(
    settings: Settings, sessions: sessionmaker[Session], branch_name: str | None, limit: int | None, console: Console
) -> GeocodeSummary:
    """Geocode the addresses without a point (of one branch if named), showing progress; print the summary."""
    geocoders = configured_geocoders(settings.geocoding, sessions)
    if not geocoders:
        raise PlanFailed(
            "No geocoder is set: set FIELDVISIT_GEOCODING__AMAP_KEY or FIELDVISIT_GEOCODING__NOMINATIM_BASE_URL."
        )
    branch_id = None
    if branch_name is not None:
        with sessions() as session:
            branch_id = find_branch(session, branch_name).id
    columns = (TextColumn("geocoding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("geocoding", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            summary = geocode_unplaced(sessions, geocoders, branch_id=branch_id, limit=limit, progress=advance)
    finally:
        for geocoder in geocoders:
            geocoder.close()
    console.print(_geocode_table(summary))
    for (_, provider, outcome), (addresses, detail) in sorted(summary.refusals.items(), key=str):
        console.print(
            f"{provider}: {detail} — {geocode_label(outcome)}, {addresses} addresses: the admin must fix the key or "
            "the plan (a finding was raised for the branch)",
            markup=False,
            soft_wrap=True,
        )
    return summary


def _geocode_table(summary: GeocodeSummary) -> Table:
    table = Table(title=f"{summary.addresses} addresses geocoded ({summary.asked} asked, the rest from the cache)")
    table.add_column("")
    table.add_column("addresses", justify="right")
    for name, count in (
        ("placed, trusted for planning", summary.trusted),
        ("placed, coarser than the text (pre-check)", summary.untrusted),
        ("not found", summary.not_found),
        ("no provider answered (retried next time)", summary.failed),
    ):
        table.add_row(name, str(count))
    for outcome, count in sorted(summary.by_outcome.items()):
        table.add_row(geocode_label(GeocodeOutcome(outcome)), str(count))
    table.add_row("系统自动解决的预检报告 pre-check reports resolved by the system", str(summary.resolved))
    for grade, count in sorted(summary.by_grade.items()):
        table.add_row(f"grade {grade}", str(count))
    for precision, count in sorted(summary.by_precision.items()):
        table.add_row(f"match {precision}", str(count))
    return table


def precheck_in_terminal(
    sessions: sessionmaker[Session], travel: Travel, branch_name: str | None, work_date: date | None, console: Console
) -> PrecheckSummary:
    """Pre-check a branch's day (default: tomorrow) and print the reports raised, by problem."""
    with sessions() as session:
        branch = find_branch(session, branch_name)
        day = work_date or local_today(branch) + timedelta(days=1)
        summary = check_day(session, branch, day, travel.of(branch.id))
        session.commit()
    table = Table(title=f"{branch.name} {day.isoformat()}: {summary.addresses} addresses checked")
    table.add_column("problem")
    table.add_column("new reports", justify="right")
    for problem, count in sorted(summary.reported.items()):
        table.add_row(problem, str(count))
    table.add_row("already waiting for the supervisor", str(summary.waiting))
    console.print(table)
    return summary
