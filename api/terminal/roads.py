"""`fieldvisit roads build`: a branch's road data from an OpenStreetMap extract, with each step and its time printed;
`fieldvisit roads calibrate`: its traffic by the hour, learnt from its tracks, with the error on held-out legs."""

from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.branches.service import local_today
from api.config import PlanningSettings, Settings
from api.geo import point_shape
from api.models.cases import Address, DebtCase
from api.models.traffic import CalibrationSource, TravelCalibration
from api.roads.build import RoadsBuilt, build_roads
from api.roads.travel import travel_provider
from api.terminal.planning import find_branch
from api.traffic.amap import AMapDriving
from api.traffic.calibration import calibrate_branch
from api.traffic.repricing import Repricing, reprice_day
from routing.matrix import Point


def build_in_terminal(
    settings: PlanningSettings,
    sessions: sessionmaker[Session],
    extract: Path,
    branch_name: str | None,
    profile: str,
    max_outside_share: float,
    console: Console,
) -> RoadsBuilt:
    """Build the branch's road data for `profile` from `extract`, checked against its office and located addresses."""
    assert settings.roads_dir is not None  # Settings puts it under the var folder
    with sessions() as session:
        branch = find_branch(session, branch_name)
        office = point_shape(branch.office_point)
        places: list[Point] = [(office.y, office.x), *_address_points(session, branch.id)]
    size = _size(extract.stat().st_size)
    console.print(f"{branch.name}: road data for the {profile} profile from {extract} ({size})")
    built = build_roads(
        extract,
        settings.roads_dir,
        branch.id,
        profile,
        places,
        max_snap_m=settings.osrm_max_snap_m,
        max_outside_share=max_outside_share,
        progress=console.print,
    )
    coverage = built.coverage
    if coverage is not None and coverage.outside:
        console.print(
            f"{coverage.outside} of {coverage.places - 1} addresses are farther than {settings.osrm_max_snap_m:,.0f} m"
            f" from the roads (the farthest {coverage.farthest_m / 1000:,.1f} km): plans leave them out as no_road,"
            " for the supervisor"
        )
    if built.built:
        console.print(f"built in {built.seconds:.1f} s: {_size(built.size_bytes)} in {built.folder}")
    return built


def _address_points(session: Session, branch_id: UUID) -> list[Point]:
    located = select(Address.point).join(DebtCase).where(DebtCase.branch_id == branch_id, Address.point.is_not(None))
    return [(shape.y, shape.x) for shape in map(point_shape, session.scalars(located))]


def _size(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size / 1e3:,.1f} kB"


DEFAULT_SPAN_DAYS = 28


def calibrate_in_terminal(
    settings: PlanningSettings,
    sessions: sessionmaker[Session],
    branch_name: str | None,
    since: date | None,
    until: date | None,
    apply: bool,
    source: CalibrationSource,
    console: Console,
) -> TravelCalibration:
    """Calibrate the branch's hour factors (`api.traffic.calibration`) and print them, hour by hour."""
    with sessions.begin() as session:
        branch = find_branch(session, branch_name)
        until = until or local_today(branch)
        since = since or until - timedelta(days=DEFAULT_SPAN_DAYS)
        travel = travel_provider(settings).of(branch.id)
        calibration = calibrate_branch(session, branch, since, until, travel, apply=apply)
        console.print(
            f"{branch.name}: traffic by the hour on {calibration.engine}, from the legs of {since} to {until}"
        )
        console.print("hour  factor  legs")
        for hour, (factor, legs) in enumerate(zip(calibration.factors, calibration.legs_per_hour, strict=True)):
            if legs:
                console.print(f"{hour:02d}    {factor:5.2f}  {legs:4d}")
        console.print(
            f"learnt from {calibration.learnt_from} legs ({calibration.set_aside} set aside: no drive), judged on"
            f" {calibration.held_out} held out: median error {calibration.error_before:.0%} with the factors in force,"
            f" {calibration.error_after:.0%} with these"
        )
        if calibration.applied:
            console.print("in force from the next plan")
        elif apply:
            console.print("not put in force: no better than those in force on the held-out legs")
        session.expunge(calibration)
    return calibration


def reprice_in_terminal(
    settings: Settings,
    sessions: sessionmaker[Session],
    driving: AMapDriving,
    branch_name: str | None,
    work_date: date | None,
    budget: int,
    console: Console,
) -> Repricing:
    """Re-price the day's legs with AMap (`api.traffic.repricing`) and print how far the plan is from it."""
    with sessions.begin() as session:
        branch = find_branch(session, branch_name)
        work_date = work_date or local_today(branch)
        travel = travel_provider(settings.planning).of(branch.id)
        done = reprice_day(session, branch, work_date, driving, travel, budget=budget)
    console.print(
        f"{branch.name}, {work_date}: {done.priced} of {done.legs} legs priced by AMap in {done.requests} requests"
        + (f", {done.no_road} without a road by AMap" if done.no_road else "")
    )
    if done.priced:
        console.print(
            f"the road engine's {done.engine_s / 60:,.0f} min for them are {done.priced_s / 60:,.0f} min in AMap's"
            f" traffic now ({done.priced_s / done.engine_s - 1:+.0%})"
        )
    if done.stopped:
        console.print(f"stopped early: {done.stopped}")
    return done
