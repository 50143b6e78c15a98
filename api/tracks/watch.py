"""Looking over the on-duty tracks: a gap longer than the branch allows ("team out of contact") or a time far from
the day's route ("team off route") becomes a finding for the supervisor's feed and webhooks, once per stretch."""

from datetime import datetime, timedelta

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.branches.rules import rules_of
from api.db import one_at_a_time, utcnow
from api.findings import service as findings_service
from api.models.branches import Branch
from api.models.findings import Finding, FindingKind
from api.models.sheets import VisitSheet
from api.models.teams import Team
from api.models.tracks import FIX_COLUMNS, AlertKind, PositionFix, Track, TrackAlert, epoch_ms, stored_fix
from api.models.users import User
from api.roads.travel import Travel
from api.rules.tracking import Duty, Point, Span, TimedFix, TrackingRules, duty, gaps, off_route, server_time
from api.sheets import lateness
from api.tracks import service as tracks_service

SLACK = timedelta(minutes=10)  # looked back beyond the longest stretch that counts, so none is cut at the window


def watch_tracks(session: Session, margin: timedelta, now: datetime | None = None) -> list[Finding]:
    """Look over every track whose duty has begun and was not looked over after it ended; the findings published."""
    now = now or utcnow()
    today = now.date()
    rows = session.execute(
        select(Track, tracks_service.latest_sheet()).where(
            Track.work_date.between(today - timedelta(days=1), today + timedelta(days=1)), Track.duty_from <= now
        )
    ).all()
    sheets = {
        sheet.id: sheet
        for sheet in session.scalars(select(VisitSheet).where(VisitSheet.id.in_([id for _, id in rows if id])))
    }
    rules = {branch.id: rules_of(branch).tracking for branch in session.scalars(select(Branch))}
    found: list[Finding] = []
    for track, sheet_id in rows:
        sheet = sheets.get(sheet_id)
        if sheet is None:
            continue
        on_duty = duty(track.duty_from, sheet.leaves_at, sheet.returns_at, margin)
        if track.watched_at is not None and track.watched_at > on_duty.ends:
            continue
        found += _watch(session, track, sheet, on_duty, rules[track.branch_id], now)
        track.watched_at = now
    session.flush()
    return found


def _watch(
    session: Session, track: Track, sheet: VisitSheet, on_duty: Duty, rules: TrackingRules, now: datetime
) -> list[Finding]:
    lookback = timedelta(seconds=max(rules.out_of_contact_s, rules.off_route_s)) + SLACK
    begins = max(on_duty.begins, (track.watched_at or on_duty.begins) - lookback)
    before = session.execute(
        select(*FIX_COLUMNS)
        .where(PositionFix.track_id == track.id, PositionFix.at_ms < epoch_ms(begins))
        .order_by(PositionFix.at_ms.desc())
        .limit(1)
    ).first()
    fixes = tracks_service.fixes_of(session, [track.id], begins)[track.id]
    timed = [TimedFix(server_time(fix.at, fix.clock_skew_s), fix.lat, fix.lon, fix.accuracy_m) for fix in fixes]
    previous = stored_fix(before) if before is not None else None
    first_mark = server_time(previous.at, previous.clock_skew_s) if previous is not None else on_duty.begins
    silent = gaps(
        [fix.at for fix in timed], Duty(max(first_mark, on_duty.begins), on_duty.ends), now, rules.out_of_contact_s
    )
    route = [Point(lat, lon) for lon, lat in to_shape(sheet.route).coords] if sheet.route is not None else []
    away = off_route(timed, route, rules.off_route_m, rules.off_route_s)
    found = [finding for span in silent if (finding := _alert(session, track, AlertKind.OUT_OF_CONTACT, span))]
    found += [finding for span in away if (finding := _alert(session, track, AlertKind.OFF_ROUTE, span))]
    return found


def _alert(session: Session, track: Track, kind: AlertKind, span: Span) -> Finding | None:
    """A finding for a stretch not seen before; a stretch overlapping one seen before only extends it."""
    seen = session.scalars(
        select(TrackAlert).where(
            TrackAlert.track_id == track.id,
            TrackAlert.kind == kind,
            TrackAlert.began_at <= span.ends,
            TrackAlert.ended_at >= span.begins,
        )
    ).first()
    if seen is not None:
        seen.ended_at = max(seen.ended_at, span.ends)
        return None
    team = session.get_one(Team, track.team_id)
    agent = session.get_one(User, track.agent_id)
    common = {
        "agent_id": agent.id,
        "agent_name": agent.full_name,
        "since": span.begins,
        "minutes": span.duration_s // 60,
    }
    if kind is AlertKind.OUT_OF_CONTACT:
        finding = findings_service.publish_for_team(
            session, team, FindingKind.TEAM_OUT_OF_CONTACT, **common, ongoing=span.ongoing
        )
    else:
        finding = findings_service.publish_for_team(
            session, team, FindingKind.TEAM_OFF_ROUTE, **common, distance_m=span.distance_m
        )
    session.add(
        TrackAlert(track_id=track.id, kind=kind, began_at=span.begins, ended_at=span.ends, finding_id=finding.id)
    )
    session.flush()
    return finding


def watch_round(sessions: sessionmaker[Session], margin: timedelta, travel: Travel) -> None:
    """One look over the tracks and the days under way (teams running late): the `track-watch` job's round. Rounds
    take turns (`one_at_a_time`) with any other look, `fieldvisit tracks watch` say, so that a finding one raises,
    the next sees and does not raise again."""
    with sessions.begin() as session:
        one_at_a_time(session, "track-watch")
        watch_tracks(session, margin)
    with sessions.begin() as session:
        one_at_a_time(session, "track-watch")
        lateness.watch_all(session, travel)
