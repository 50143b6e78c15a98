"""On-duty tracks: fixes received from the phones while their agents are on duty (and only then), read by the
branch's supervisors (each read audited), purged when the branch's retention runs out."""

import hashlib
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from shapely import LineString
from sqlalchemy import ScalarSelect, delete, select
from sqlalchemy.orm import Session

from api.audit.chain import record_bulk, record_read
from api.db import Upsert, rows_matched, upsert, utcnow
from api.models.branches import Branch
from api.models.sheets import SheetStatus, VisitSheet
from api.models.teams import Team
from api.models.tracks import DEGREE_E7, FIX_COLUMNS, PositionFix, StoredFix, Track, TrackAlert, epoch_ms, stored_fix
from api.models.users import Role, User
from api.problems import ValidationFailed
from api.rules.field import FieldRules
from api.rules.tracking import Duty, duty, purged_before, server_time
from api.teams.service import TeamNotFound, agents_by_id
from api.tracks.schemas import (
    AgentPath,
    AgentTrack,
    FixCreate,
    FixRead,
    FixReceipt,
    FixStatus,
    PositionsCreate,
    PositionsReceipt,
    RefusalReason,
    TeamPaths,
    TeamTrackRead,
)

FUTURE_TOLERANCE = timedelta(seconds=60)  # a fix this far ahead of the server's clock (after the skew) is refused
MAX_CLOCK_SKEW = timedelta(days=365)  # a phone clock farther off is broken: its batch is refused, to be set and resent
PATH_TOLERANCE_DEG = 0.0002  # the day view's simplified paths: about 20 m


def open_track(session: Session, team: Team, agent_id: UUID, checked_at: datetime) -> Track:
    """The agent's track of the team's day, opened by their departure check: tracking starts there."""
    track = session.scalar(select(Track).where(Track.team_id == team.id, Track.agent_id == agent_id))
    if track is None:
        track = Track(
            branch_id=team.branch_id, team_id=team.id, agent_id=agent_id, work_date=team.work_date, duty_from=checked_at
        )
        session.add(track)
        session.flush()
    return track


def latest_sheet() -> ScalarSelect[UUID]:
    """The team's current published sheet (its latest version), as a subquery correlated to Track."""
    return (
        select(VisitSheet.id)
        .where(VisitSheet.team_id == Track.team_id, VisitSheet.status == SheetStatus.PUBLISHED)
        .order_by(VisitSheet.version.desc())
        .limit(1)
        .correlate(Track)
        .scalar_subquery()
    )


def duties_of(
    session: Session, agent_id: UUID, around: tuple[date, date], margin: timedelta
) -> list[tuple[Track, Duty]]:
    """The agent's tracks of work dates in `around` that have a published sheet, each with its duty."""
    rows = session.execute(
        select(Track, VisitSheet.leaves_at, VisitSheet.returns_at)
        .join(VisitSheet, VisitSheet.id == latest_sheet())
        .where(Track.agent_id == agent_id, Track.work_date.between(*around))
        .order_by(Track.duty_from)
    ).all()
    return [(track, duty(track.duty_from, leaves, returns, margin)) for track, leaves, returns in rows]


def receive_positions(session: Session, user: User, data: PositionsCreate, rules: FieldRules) -> PositionsReceipt:
    """Store the batch's fixes taken while the agent was on duty; refuse the others without keeping them."""
    now = utcnow()
    skew_s = round((data.sent_at - now).total_seconds())
    if abs(skew_s) > MAX_CLOCK_SKEW.total_seconds():
        raise ValidationFailed(
            f"The phone's clock is {abs(skew_s) // 86_400} days off the server's: set it to the network's time and "
            "send the batch again.",
            errors=[{"pointer": "#/sent_at", "detail": "more than a year off the server's clock"}],
        )
    margin = rules.duty_margin
    taken = [server_time(fix.at, skew_s) for fix in data.fixes]
    days = (min(taken).date() - timedelta(days=1), max(taken).date() + timedelta(days=1))
    duties = duties_of(session, user.id, days, margin)
    earlier = dict(
        session.execute(
            select(PositionFix.client_id, Track.agent_id)
            .join(Track, Track.id == PositionFix.track_id)
            .where(PositionFix.client_id.in_([fix.client_id for fix in data.fixes]))
        ).all()
    )
    receipts: list[FixReceipt] = []
    rows: list[dict[str, object]] = []
    for fix, at in zip(data.fixes, taken, strict=True):
        status, reason, track = _verdict(fix, at, now, earlier, user.id, duties)
        receipts.append(FixReceipt(client_id=fix.client_id, status=status, reason=reason))
        if track is not None:
            rows.append(_row(fix, track, skew_s))
    if rows:
        session.execute(_insert_new(session), rows)
        _audit_batch(session, user, rows)
    current = next((on_duty for _, on_duty in duties if on_duty.covers(now)), None)
    return PositionsReceipt(
        stored=len(rows),
        duplicates=sum(receipt.status is FixStatus.DUPLICATE for receipt in receipts),
        refused=sum(receipt.status is FixStatus.REFUSED for receipt in receipts),
        clock_skew_s=skew_s,
        on_duty_until=current.ends if current else None,
        fixes=receipts,
    )


def _verdict(
    fix: FixCreate,
    at: datetime,
    now: datetime,
    earlier: dict[UUID, UUID],
    agent_id: UUID,
    duties: Sequence[tuple[Track, Duty]],
) -> tuple[FixStatus, RefusalReason | None, Track | None]:
    if fix.client_id in earlier:
        if earlier[fix.client_id] != agent_id:
            return FixStatus.REFUSED, RefusalReason.CLIENT_ID_REUSED, None
        return FixStatus.DUPLICATE, None, None
    if at > now + FUTURE_TOLERANCE:
        return FixStatus.REFUSED, RefusalReason.IN_THE_FUTURE, None
    track = next((track for track, on_duty in duties if on_duty.covers(at)), None)
    if track is None:
        return FixStatus.REFUSED, RefusalReason.OFF_DUTY, None
    return FixStatus.STORED, None, track


def _row(fix: FixCreate, track: Track, skew_s: int) -> dict[str, object]:
    return {
        "client_id": fix.client_id,
        "track_id": track.id,
        "at_ms": epoch_ms(fix.at),
        "lat_e7": round(fix.lat * DEGREE_E7),
        "lon_e7": round(fix.lon * DEGREE_E7),
        "accuracy_m": fix.accuracy_m,
        "speed_mps": fix.speed_mps,
        "heading_deg": round(fix.heading_deg) % 360 if fix.heading_deg is not None else None,
        "battery_pct": fix.battery_pct,
        "mock": fix.mock,
        "clock_skew_s": skew_s,
        "steps": fix.steps,
    }


def _insert_new(session: Session) -> Upsert:
    """An INSERT that skips a fix a concurrent resend stored first."""
    return upsert(session, PositionFix).on_conflict_do_nothing(index_elements=["client_id"])


def _audit_batch(session: Session, user: User, rows: list[dict[str, object]]) -> None:
    """One chain row per batch: how many fixes were stored, of which tracks, and a digest of them, so that a track
    read later can be shown to be what arrived, while the chain keeps no position of anyone."""
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda row: str(row["client_id"])):
        digest.update(f"{row['client_id']}|{row['at_ms']}|{row['lat_e7']}|{row['lon_e7']}|{row['mock']}\n".encode())
    times = [int(str(row["at_ms"])) for row in rows]
    record_bulk(
        session,
        "insert",
        "position_fix",
        str(user.id),
        {
            "fixes": len(rows),
            "tracks": sorted({int(str(row["track_id"])) for row in rows}),
            "first_at_ms": min(times),
            "last_at_ms": max(times),
            "sha256": digest.hexdigest(),
        },
    )


def _fix_read(fix: StoredFix) -> FixRead:
    return FixRead(
        at=fix.at,
        lat=fix.lat,
        lon=fix.lon,
        accuracy_m=fix.accuracy_m,
        speed_mps=fix.speed_mps,
        mock=fix.mock,
        clock_skew_s=fix.clock_skew_s,
        steps=fix.steps,
    )


def supervised_team(session: Session, user: User, team_id: UUID) -> Team:
    """A team of the supervisor's own branch; any other is not found."""
    team = session.scalar(select(Team).where(Team.id == team_id, Team.branch_id == user.branch_id))
    if user.role is not Role.SUPERVISOR or team is None:
        raise TeamNotFound(f"No team {team_id}.", team_id=team_id)
    return team


def fixes_of(
    session: Session, track_ids: Sequence[int], begins: datetime | None = None, ends: datetime | None = None
) -> dict[int, list[StoredFix]]:
    """The tracks' fixes, oldest first by the phone's clock, optionally within [begins, ends]."""
    found: dict[int, list[StoredFix]] = {track_id: [] for track_id in track_ids}
    query = select(*FIX_COLUMNS).where(PositionFix.track_id.in_(list(track_ids)))
    if begins is not None:
        query = query.where(PositionFix.at_ms >= epoch_ms(begins))
    if ends is not None:
        query = query.where(PositionFix.at_ms <= epoch_ms(ends))
    for row in session.execute(query.order_by(PositionFix.track_id, PositionFix.at_ms)):
        fix = stored_fix(row)
        found[fix.track_id].append(fix)
    return found


def team_track(session: Session, user: User, team_id: UUID, since: datetime | None) -> TeamTrackRead:
    """The team's tracks of its day, for a supervisor of its branch; the read is recorded in the audit chain."""
    team = supervised_team(session, user, team_id)
    tracks = list(session.scalars(select(Track).where(Track.team_id == team.id)))
    fixes = fixes_of(session, [track.id for track in tracks], begins=since)
    names = agents_by_id(session, [team])
    record_read(
        session, "track", *(track.agent_id for track in tracks), what=f"track of team {team.id} on {team.work_date}"
    )
    return TeamTrackRead(
        team_id=team.id,
        team_name=team.name,
        work_date=team.work_date,
        agents=[
            AgentTrack(
                agent_id=track.agent_id,
                full_name=names[track.agent_id].full_name,
                duty_from=track.duty_from,
                last=_fix_read(fixes[track.id][-1]) if fixes[track.id] else None,
                fixes=[_fix_read(fix) for fix in fixes[track.id]],
            )
            for track in tracks
        ],
    )


def day_paths(
    session: Session, user: User, branch: Branch, work_date: date, sheets: Sequence[VisitSheet]
) -> list[TeamPaths]:
    """Each team of the day: its agents' last positions and simplified paths; the read is audited."""
    teams = {
        team.id: team
        for team in session.scalars(select(Team).where(Team.branch_id == branch.id, Team.work_date == work_date))
    }
    tracks = list(session.scalars(select(Track).where(Track.team_id.in_(list(teams)))))
    fixes = fixes_of(session, [track.id for track in tracks])
    names = agents_by_id(session, list(teams.values()))
    sheet_of = {sheet.team_id: sheet.id for sheet in sheets}
    record_read(session, "track", *(track.agent_id for track in tracks), what=f"tracks of {work_date} in the day view")
    by_team: dict[UUID, list[AgentPath]] = {team_id: [] for team_id in teams}
    for track in tracks:
        own = fixes[track.id]
        by_team[track.team_id].append(
            AgentPath(
                agent_id=track.agent_id,
                full_name=names[track.agent_id].full_name,
                last=_fix_read(own[-1]) if own else None,
                fixes=len(own),
                path=_simplified(own),
            )
        )
    return [
        TeamPaths(team_id=team.id, team_name=team.name, sheet_id=sheet_of.get(team.id), agents=by_team[team.id])
        for team in sorted(teams.values(), key=lambda team: team.name)
    ]


def _simplified(fixes: Sequence[StoredFix]) -> list[tuple[float, float]]:
    if len(fixes) < 3:
        return [(fix.lat, fix.lon) for fix in fixes]
    line = LineString([(fix.lon, fix.lat) for fix in fixes]).simplify(PATH_TOLERANCE_DEG, preserve_topology=False)
    return [(round(lat, 6), round(lon, 6)) for lon, lat in line.coords]


def purge_expired(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Delete the tracks (fixes and alerts with them) whose work date is past their branch's retention, counting in
    each branch's own calendar; each branch's purge is one audit row. Fixes deleted per branch name."""
    now = now or utcnow()
    deleted: dict[str, int] = {}
    for branch in session.scalars(select(Branch).order_by(Branch.name)):
        cutoff = purged_before(now.astimezone(ZoneInfo(branch.timezone)).date(), branch.track_retention_days)
        expired = select(Track.id).where(Track.branch_id == branch.id, Track.work_date < cutoff)
        ids = list(session.scalars(expired))
        if not ids:
            continue
        fixes = rows_matched(session, delete(PositionFix).where(PositionFix.track_id.in_(ids)))
        session.execute(delete(TrackAlert).where(TrackAlert.track_id.in_(ids)))
        session.execute(delete(Track).where(Track.id.in_(ids)))
        record_bulk(
            session,
            "delete",
            "position_fix",
            str(branch.id),
            {
                "tracks": len(ids),
                "fixes": fixes,
                "work_dates_before": cutoff.isoformat(),
                "retention_days": branch.track_retention_days,
            },
        )
        deleted[branch.name] = fixes
    return deleted
