"""Presence at a visit: how far the check-ins, both agents' tracks and the evidence show the two agents at the door
for the time they claim, and whether any of it looks spoofed. The service gathers a `VisitScene` when the visit
starts and again when it completes; `assess` scores it.

The score is the weighted mean of the applicable signals' scores (each 0..1) × 100, rounded. A signal without data
weighs 0 and says so, except that missing fixes count against the dwell and the co-presence (a phone that sent
nothing shows no presence, but flags nothing: old app, phone off). A flagged signal says fraud on its own and caps
the score at `PresenceRules.flagged_cap` (30), under any sensible branch threshold (60 by default).

Positions are compared in metres east and north of the door (an equirectangular projection: under 0.1 % off within
50 km), times by the server's clock (a fix's device time less its clock skew). Every signal is one pass over the
time-sorted fixes, so a visit costs O(n log n) in its fixes (the sort)."""

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from math import cos, hypot, radians
from statistics import linear_regression

from api.rules.evidence import PHOTO_FAR_M, PHOTO_SLACK, photo_agreement
from api.rules.position import checkin_too_far, distance_m
from routing.matrix import EARTH_MEAN_RADIUS_M


class SignalName(StrEnum):
    CHECK_INS = "check_ins"  # both agents' check-ins inside the geofence (distance vs radius + accuracy)
    DWELL = "dwell"  # fixes inside the geofence during [arrived_at, until]: dwell s vs claimed on-site s
    CO_PRESENCE = "co_presence"  # the two agents' tracks near each other around the visit
    TOGETHER_TOO_CLOSELY = "together_too_closely"  # one person carrying both phones: never part, count the same steps
    CONTINUITY = "continuity"  # no jump over the maximum speed: along a track, from the previous stop, to a check-in
    MOCK_LOCATION = "mock_location"  # the platform's mock-location flag on any fix
    IMPOSSIBLE_ACCURACY = "impossible_accuracy"  # accuracy under 1 m, or the same accuracy on every fix
    REPEATED_COORDINATES = "repeated_coordinates"  # the same lat/lon to the last digit on consecutive fixes
    IDENTICAL_DEVICES = "identical_devices"  # both devices report identical coordinates to the last digit
    CLOCK_SKEW = "clock_skew"  # a device clock far from the server's
    REPLAYED_TRACK = "replayed_track"  # today's fixes repeat an earlier track point for point
    PHOTO_AGREEMENT = "photo_agreement"  # photo EXIF positions and times vs the door, the visit, the track
    RECORDING_AGREEMENT = "recording_agreement"  # recordings' duration vs the time on site


@dataclass(frozen=True, slots=True)
class TrackFix:
    at: datetime  # the device's time of the fix, tz-aware UTC, as the phone sent it
    lat: float
    lon: float
    accuracy_m: float
    speed_mps: float | None = None
    mock: bool = False  # the platform's mock-location flag
    clock_skew_s: int = 0  # device clock minus server clock when its batch was sent (0 unknown)
    steps: int | None = None  # the phone's cumulative step counter at the fix, if it has one


@dataclass(frozen=True, slots=True)
class CheckInFix:
    agent: str
    lat: float
    lon: float
    accuracy_m: float
    device_at: datetime
    received_at: datetime  # server time


@dataclass(frozen=True, slots=True)
class PhotoFix:
    lat: float | None  # EXIF GPS; None if absent
    lon: float | None
    taken_at: datetime | None  # EXIF capture time (UTC) if any


@dataclass(frozen=True, slots=True)
class Door:
    lat: float
    lon: float
    radius_m: float  # the geofence radius (the server's check-in radius)


@dataclass(frozen=True, slots=True)
class PreviousStop:
    """The team's previous visit of the day, where and when it left from."""

    lat: float
    lon: float
    left_at: datetime
    route_m: float | None = None  # from it to this door along the day's route (its roads), when the route has both


def along_route_m(
    route: Sequence[tuple[float, float]], start: tuple[float, float], end: tuple[float, float]
) -> float | None:
    """Metres along a (lat, lon) route from its first vertex at `start` to the next vertex at `end` after it; None
    when the route does not pass both in that order."""
    try:
        first = route.index(start)
        last = route.index(end, first + 1)
    except ValueError:
        return None
    return sum(distance_m(*a, *b) for a, b in pairwise(route[first : last + 1]))


@dataclass(frozen=True)
class VisitScene:
    door: Door
    agents: tuple[str, str]
    arrived_at: datetime  # server time of the first check-in
    until: datetime  # server time: now at the start, the outcome's submission at completion
    check_ins: tuple[CheckInFix, ...]
    tracks: Mapping[str, tuple[TrackFix, ...]]  # per agent, ~45 min before arrived_at to until + 10 min; may be empty
    photos: tuple[PhotoFix, ...] = ()  # empty at the start
    recordings_s: tuple[float, ...] = ()  # accepted recordings' durations; empty at the start
    claimed_on_site_s: int | None = None  # the visit's on-site seconds (None at the start)
    previous_stop: PreviousStop | None = None
    earlier_tracks: tuple[tuple[TrackFix, ...], ...] = ()  # fixes of earlier visits of the address (replays)


@dataclass(frozen=True)
class PresenceRules:
    """Thresholds and weights. The weights of the presence evidence add up to 11.5 and the seven spoof signals
    weigh 0.5 each, 3.5 in all: a clean track adds little, a flagged one caps the score."""

    check_ins_weight: float = 2.0
    dwell_weight: float = 3.0
    co_presence_weight: float = 2.0
    continuity_weight: float = 2.0
    photo_weight: float = 1.5
    recording_weight: float = 1.0
    spoof_weight: float = 0.5  # each of: together too closely, mock, accuracy, repeats, identical, clock, replay
    flagged_cap: int = 30  # a flagged signal caps the score here, under any sensible threshold

    fix_valid_s: float = 120.0  # a fix stands for where its phone is until the next one, for at most this long
    dwell_min_s: float = 60.0  # under this on site the dwell is not measured yet
    elsewhere_min_fixes: int = 8  # dwell flagged when an agent sent at least this many fixes during the visit…
    elsewhere_share: float = 0.5  # …and under this share of them were inside the geofence

    pair_s: float = 20.0  # a fix of the other agent this close in time pairs with a fix…
    interpolate_s: float = 60.0  # …or the other's position is interpolated between fixes at most this far apart
    co_presence_before_s: float = 600.0  # co-presence is read from this long before the arrival
    co_presence_m: float = 100.0  # paired fixes this close are together
    co_presence_full_share: float = 0.8  # this share of paired fixes together scores 1
    apart_min_pairs: int = 8  # co-presence flagged with at least this many pairs…
    apart_share: float = 0.25  # …under this share together: the second agent was elsewhere

    together_min_on_site_s: float = 300.0  # honest agents part at the door (mailbox, neighbour): judged after this
    together_before_s: float = 600.0  # the tracks compared from this long before the arrival to `until`
    together_min_pairs: int = 20
    together_window: int = 5  # separations are smoothed by a running median over this many pairs
    together_m: float = 16.0  # the tracks parted when the smoothed separation reached this…
    together_noise_factor: float = 3.0  # …and this many times their usual separation (what the phones' own errors
    # put between two phones on one person grows with the noise; a real parting stands out of it)
    together_min_steps: int = 150  # the two step counters are compared once one of them counted this many steps…
    together_steps_share: float = 0.035  # …and count one person's steps when they differ by under this share (the
    together_steps_slack: int = 10  # counters' own bias) and the gap between them never strays further than this
    # for more than one fix (steps one person takes alone at the door, which the other's counter does not see)

    max_speed_kmh: float = 150.0  # a move faster than this beyond the fixes' accuracies is a jump
    min_jump_m: float = 100.0  # moves shorter than this beyond the accuracies are GPS noise, whatever their speed

    accuracy_floor_m: float = 1.0  # a phone's GPS is never this accurate
    impossible_accuracy_fixes: int = 3  # flagged from this many fixes under the floor
    constant_accuracy_run: int = 20  # or this many consecutive fixes with one and the same accuracy value

    repeated_run: int = 4  # flagged from this many consecutive fixes at one position to the last digit

    identical_min_fixes: int = 3  # flagged from this many fixes of one device at the other's exact coordinates…
    identical_share: float = 0.2  # …making at least this share of its track

    max_clock_skew_s: float = 300.0

    replay_min_fixes: int = 8  # flagged from this many fixes at an earlier track's exact coordinates…
    replay_share: float = 0.25  # …making at least this share of the agent's track
    replay_min_shift_s: float = 3600.0  # the same fix within this of the earlier one is a shared fix, not a replay

    photo_slack: timedelta = PHOTO_SLACK  # photos taken this long before the arrival or after `until` still agree
    photo_far_m: float = PHOTO_FAR_M  # a photo farther than this from the door is flagged (`photo_agreement`)
    photo_track_s: float = 120.0  # a photo's position is compared with a track fix at most this far from its time

    recording_over_share: float = 1.5  # recordings longer than this share of the time on site…
    recording_slack_s: float = 120.0  # …plus this do not agree with it


@dataclass(frozen=True, slots=True)
class Signal:
    name: SignalName
    value: float | None  # what was measured, in `unit` (None: no data)
    unit: str  # "m", "s", "share", "km/h", "count"
    weight: float  # its weight in the score (0 when it does not apply)
    score: float  # 0..1: how far it supports presence
    flagged: bool  # the signal says fraud on its own
    detail: str  # one English sentence for the supervisor, with the figures


@dataclass(frozen=True)
class Assessment:
    score: int  # 0..100
    signals: tuple[Signal, ...]

    @property
    def flagged(self) -> tuple[SignalName, ...]:
        return tuple(signal.name for signal in self.signals if signal.flagged)


def assess(scene: VisitScene, rules: PresenceRules = PresenceRules()) -> Assessment:
    """Score the scene's presence: the signals in `SignalName` order, and their weighted mean × 100, capped when a
    signal is flagged."""
    kx = radians(1) * EARTH_MEAN_RADIUS_M * cos(radians(scene.door.lat))
    ky = radians(1) * EARTH_MEAN_RADIUS_M
    view = _View(scene, rules, kx, ky)
    signals = (
        _check_ins(view),
        _dwell(view),
        _co_presence(view),
        _together(view),
        _continuity(view),
        _mock(view),
        _accuracy(view),
        _repeats(view),
        _identical(view),
        _clock(view),
        _replay(view),
        _photos(view),
        _recordings(view),
    )
    weight = sum(signal.weight for signal in signals)
    score = int(100 * sum(signal.weight * signal.score for signal in signals) / weight + 0.5) if weight else 0
    if any(signal.flagged for signal in signals):
        score = min(score, rules.flagged_cap)
    return Assessment(score, signals)


def doubtful(score: int, threshold: int) -> bool:
    """Whether presence with this score is doubtful: it is under the branch's threshold."""
    return score < threshold


WHO = ("the first agent", "the second agent")


class _Track:
    """One agent's fixes by server time (exact duplicates, as a phone resends them, dropped), in metres from the
    door."""

    __slots__ = ("acc", "fixes", "t", "x", "y")

    def __init__(self, fixes: Sequence[TrackFix], view: "_View") -> None:
        times = [fix.at.timestamp() - fix.clock_skew_s for fix in fixes]
        order = sorted(range(len(fixes)), key=times.__getitem__)  # linear on the sorted tracks phones send
        self.fixes: list[TrackFix] = []
        self.t: list[float] = []
        for i in order:
            fix = fixes[i]
            if (
                self.fixes
                and times[i] == self.t[-1]
                and fix.lat == self.fixes[-1].lat
                and fix.lon == self.fixes[-1].lon
            ):
                continue
            self.fixes.append(fix)
            self.t.append(times[i])
        lat0, lon0, kx, ky = view.scene.door.lat, view.scene.door.lon, view.kx, view.ky
        self.x = [(fix.lon - lon0) * kx for fix in self.fixes]
        self.y = [(fix.lat - lat0) * ky for fix in self.fixes]
        self.acc = [fix.accuracy_m for fix in self.fixes]

    def between(self, begins: float, ends: float) -> range:
        """The indexes of the fixes timed in [begins, ends]."""
        return range(bisect_right(self.t, begins - 1e-9), bisect_right(self.t, ends))


class _View:
    """The scene as the signals read it: times in POSIX seconds, each agent's track sorted and projected."""

    def __init__(self, scene: VisitScene, rules: PresenceRules, kx: float, ky: float) -> None:
        self.scene, self.rules, self.kx, self.ky = scene, rules, kx, ky
        self.arrived = scene.arrived_at.timestamp()
        self.until = scene.until.timestamp()
        self.tracks = tuple(_Track(scene.tracks.get(agent, ()), self) for agent in scene.agents)
        self.fix_count = sum(len(track.t) for track in self.tracks)
        self._pairs: dict[float, list[tuple[float, float, float]]] = {}

    def on_site_s(self) -> float:
        """The claimed time on site at completion, else the time since the arrival."""
        claimed = self.scene.claimed_on_site_s
        return float(claimed) if claimed is not None else max(0.0, self.until - self.arrived)

    def pairs(self, begins: float) -> list[tuple[float, float, float]]:
        """For each fix of the first agent in [begins, until], where the second was at that moment: (t, dx, dy),
        the first's position less the second's, interpolated between the second's fixes on either side when they are
        at most `interpolate_s` apart, else the second's fix nearest in time within `pair_s`."""
        if begins in self._pairs:
            return self._pairs[begins]
        first, second = self.tracks
        found: list[tuple[float, float, float]] = []
        bt, bx, by, count = second.t, second.x, second.y, len(second.t)
        pair_s, interpolate_s = self.rules.pair_s, self.rules.interpolate_s
        window = first.between(begins, self.until)
        j = bisect_right(bt, first.t[window.start]) if window and count else 0
        for i in window if count else ():
            t = first.t[i]
            while j < count and bt[j] <= t:
                j += 1
            # bt[j - 1] <= t < bt[j]
            if 0 < j < count and bt[j] - bt[j - 1] <= interpolate_s:
                share = (t - bt[j - 1]) / (bt[j] - bt[j - 1]) if bt[j] > bt[j - 1] else 0.0
                x = bx[j - 1] + share * (bx[j] - bx[j - 1])
                y = by[j - 1] + share * (by[j] - by[j - 1])
            else:
                near = min((k for k in (j - 1, j) if 0 <= k < count), key=lambda k: abs(bt[k] - t))
                if abs(bt[near] - t) > pair_s:
                    continue
                x, y = bx[near], by[near]
            found.append((t, first.x[i] - x, first.y[i] - y))
        self._pairs[begins] = found
        return found


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if abs(seconds) >= 120 else f"{seconds:.0f} s"


def _relative(view: _View, t: float) -> str:
    """When `t` was, from the arrival."""
    delta = t - view.arrived
    return f"{_minutes(-delta)} before the check-in" if delta < 0 else f"{_minutes(delta)} after the check-in"


def _spoof(view: _View, name: SignalName, value: float | None, unit: str, flagged: bool, detail: str) -> Signal:
    """A spoof signal: it weighs `spoof_weight` when there are fixes to look at and scores 0 when flagged."""
    weight = view.rules.spoof_weight if view.fix_count else 0.0
    return Signal(name, value, unit, weight, 0.0 if flagged else 1.0, flagged, detail)


def _check_ins(view: _View) -> Signal:
    door, rules = view.scene.door, view.rules
    nearest: list[float | None] = []
    for agent in view.scene.agents:
        distances = [
            (distance_m(door.lat, door.lon, c.lat, c.lon), c.accuracy_m)
            for c in view.scene.check_ins
            if c.agent == agent
        ]
        inside = [d for d, accuracy in distances if not checkin_too_far(d, accuracy, door.radius_m)]
        nearest.append(min(inside) if inside else None)
    done = [d for d in nearest if d is not None]
    score = len(done) / len(nearest)
    parts = [
        f"{WHO[k]} {'did not check in inside it' if d is None else f'{d:.0f} m from the door'}"
        for k, d in enumerate(nearest)
    ]
    detail = f"Check-ins inside the {door.radius_m:.0f} m geofence: {' and '.join(parts)}."
    return Signal(SignalName.CHECK_INS, max(done) if done else None, "m", rules.check_ins_weight, score, False, detail)


def _dwell(view: _View) -> Signal:
    rules, radius = view.rules, view.scene.door.radius_m
    reference = view.on_site_s()
    claimed = "claimed on site" if view.scene.claimed_on_site_s is not None else "since the check-in"
    if reference < rules.dwell_min_s:
        detail = f"Too early to measure the dwell: {reference:.0f} s since the check-in."
        return Signal(SignalName.DWELL, None, "s", 0.0, 0.0, False, detail)
    begins, ends = view.arrived, max(view.arrived, view.until)
    dwells: list[float] = []
    parts: list[str] = []
    elsewhere: list[str] = []
    for k, track in enumerate(view.tracks):
        t, x, y, acc = track.t, track.x, track.y, track.acc
        count = len(t)
        inside_s, seen, inside_n = 0.0, 0, 0
        first = max(0, bisect_right(t, begins) - 1)
        last = bisect_right(t, ends - 1e-9)
        valid_s = rules.fix_valid_s
        for at, after, east, north, accuracy in zip(
            t[first:last],
            [*t[first + 1 : last + 1], ends][: last - first],
            x[first:last],
            y[first:last],
            acc[first:last],
            strict=True,
        ):
            within = hypot(east, north) <= radius + min(accuracy, radius)
            if at >= begins:
                seen += 1
                inside_n += within
            if within:
                stop = min(after, at + valid_s, ends)
                start = max(at, begins)
                if stop > start:
                    inside_s += stop - start
        dwells.append(inside_s)
        parts.append(f"{inside_s:.0f} s ({WHO[k]})" if count else f"no fixes from {WHO[k]}")
        if seen >= rules.elsewhere_min_fixes and inside_n < rules.elsewhere_share * seen:
            elsewhere.append(f"{WHO[k]}'s track is outside it for {seen - inside_n} of {seen} fixes")
    score = sum(min(1.0, dwell / reference) for dwell in dwells) / len(dwells)
    detail = f"Inside the {radius:.0f} m geofence for {' and '.join(parts)} of the {reference:.0f} s {claimed}"
    detail += f": {' and '.join(elsewhere)}." if elsewhere else "."
    value = sum(dwells) / len(dwells)
    return Signal(SignalName.DWELL, round(value), "s", rules.dwell_weight, score, bool(elsewhere), detail)


def _co_presence(view: _View) -> Signal:
    rules = view.rules
    pairs = view.pairs(view.arrived - rules.co_presence_before_s)
    if not pairs:
        silent = [WHO[k] for k, track in enumerate(view.tracks) if not track.t]
        why = f"no fixes from {' and '.join(silent)}" if silent else "their fixes are never close in time"
        detail = f"No paired fixes of the two agents around the visit: {why}."
        return Signal(SignalName.CO_PRESENCE, None, "share", rules.co_presence_weight, 0.0, False, detail)
    limit = rules.co_presence_m
    near = sum(1 for _, dx, dy in pairs if hypot(dx, dy) <= limit)
    share = near / len(pairs)
    flagged = len(pairs) >= rules.apart_min_pairs and share < rules.apart_share
    detail = (
        f"The two agents' tracks were within {limit:.0f} m of each other for {near} of {len(pairs)} paired fixes "
        f"from {_minutes(rules.co_presence_before_s)} before the check-in"
    )
    detail += ": the second agent was elsewhere." if flagged else "."
    score = min(1.0, share / rules.co_presence_full_share)
    return Signal(SignalName.CO_PRESENCE, round(share, 3), "share", rules.co_presence_weight, score, flagged, detail)


def _together(view: _View) -> Signal:
    """Whether two people are at the door or one carries both phones. GPS tells them apart only when the tracks part
    by more than the phones' own errors put between them; when they never do, the phones' step counters tell (one
    person's steps are counted alike by both phones, two people's are not); with no step counts nothing can tell, and
    the signal does not count."""
    rules = view.rules
    on_site = view.until - view.arrived
    if on_site < rules.together_min_on_site_s:
        detail = f"Too early to tell whether the tracks part: {_minutes(on_site)} since the check-in."
        return Signal(SignalName.TOGETHER_TOO_CLOSELY, None, "m", 0.0, 0.0, False, detail)
    begins = view.arrived - rules.together_before_s
    pairs = view.pairs(begins)
    if len(pairs) < rules.together_min_pairs:
        detail = f"Too few paired fixes to compare the two tracks ({len(pairs)})."
        return Signal(SignalName.TOGETHER_TOO_CLOSELY, None, "m", 0.0, 0.0, False, detail)
    apart = [hypot(dx, dy) for _, dx, dy in pairs]
    size = min(rules.together_window, len(apart))
    middle = size // 2
    parted = max(sorted(apart[k : k + size])[middle] for k in range(len(apart) - size + 1))
    usual = sorted(apart)[len(apart) // 2]
    value = round(parted, 1)
    gps = (
        f"Over {len(pairs)} paired fixes the two tracks parted by {parted:.0f} m at most; they are usually "
        f"{usual:.0f} m apart"
    )
    if parted >= max(rules.together_m, rules.together_noise_factor * usual):
        return _spoof(view, SignalName.TOGETHER_TOO_CLOSELY, value, "m", False, f"{gps}: two people.")
    steps = _steps_apart(view, begins)
    if steps is None:
        detail = (
            f"{gps}, within what their GPS errors put between two phones, and the phones sent too few step counts "
            "to compare: nothing here tells two people side by side from one person carrying both phones."
        )
        return Signal(SignalName.TOGETHER_TOO_CLOSELY, value, "m", 0.0, 0.0, False, detail)
    counted, share, strayed = steps
    gps += f", within what their GPS errors put between two phones; of {counted} steps counted,"
    alike = abs(share) <= rules.together_steps_share and strayed <= rules.together_steps_slack
    if alike:
        detail = (
            f"{gps} the two step counters differ by {abs(share):.1%} and the gap between them strayed by {strayed} "
            "steps at most: they counted one person's steps, as if one person carried both phones."
        )
    else:
        detail = (
            f"{gps} the two step counters differ by {abs(share):.1%} and the gap between them strayed by {strayed} "
            "steps: two people walking and standing."
        )
    return _spoof(view, SignalName.TOGETHER_TOO_CLOSELY, value, "m", alike, detail)


def _step_counts(track: _Track, begins: float, ends: float) -> tuple[list[float], list[float]]:
    """The track's step counter over [begins, ends] as (times, steps counted since `begins`'s first count), a reset of
    the counter (it counts from the phone's start) carried over."""
    times: list[float] = []
    counted: list[float] = []
    total, last = 0.0, None
    for i in track.between(begins, ends):
        steps = track.fixes[i].steps
        if steps is None:
            continue
        if last is not None:
            total += steps - last if steps >= last else steps
        last = steps
        times.append(track.t[i])
        counted.append(total)
    return times, counted


def _steps_apart(view: _View, begins: float) -> tuple[int, float, int] | None:
    """The two phones' step counters over [begins, until], the second read at each fix of the first (between its own
    fixes): how many steps the busier one counted, by what share they differ (the slope of the gap between them
    over the first's count: two counters on one person differ only by their bias) and how far the gap strays from
    that slope for more than one fix; None when the phones counted too few steps to compare."""
    (t1, s1), (t2, s2) = (_step_counts(track, begins, view.until) for track in view.tracks)
    counted = max(s1[-1] if s1 else 0.0, s2[-1] if s2 else 0.0)
    if len(t2) < 2 or counted < view.rules.together_min_steps:
        return None
    firsts, gaps = [], []
    for t, steps in zip(t1, s1, strict=True):
        j = bisect_right(t2, t)
        if 0 < j < len(t2):
            share = (t - t2[j - 1]) / (t2[j] - t2[j - 1]) if t2[j] > t2[j - 1] else 0.0
            firsts.append(steps)
            gaps.append(steps - (s2[j - 1] + share * (s2[j] - s2[j - 1])))
    if len(gaps) < view.rules.together_min_pairs:
        return None
    slope, intercept = linear_regression(firsts, gaps) if max(firsts) > min(firsts) else (0.0, 0.0)
    strays = [gap - slope * steps - intercept for steps, gap in zip(firsts, gaps, strict=True)]
    # a median of three: a walk that starts or stops between two fixes misreads the count between them, once
    steady = [sorted(strays[k - 1 : k + 2])[1] for k in range(1, len(strays) - 1)]
    return round(counted), slope, round(max(steady) - min(steady))


def _continuity(view: _View) -> Signal:
    rules, scene = view.rules, view.scene
    fastest, where = 0.0, ""
    for k, track in enumerate(view.tracks):
        t, x, y, acc = track.t, track.x, track.y, track.acc
        min_jump = rules.min_jump_m
        for t0, t1, x0, x1, y0, y1, a0, a1 in zip(t, t[1:], x, x[1:], y, y[1:], acc, acc[1:], strict=False):
            jump = hypot(x1 - x0, y1 - y0) - a0 - a1
            if jump > min_jump and jump / max(t1 - t0, 1.0) > fastest:
                fastest = jump / max(t1 - t0, 1.0)
                where = f"{WHO[k]} moved {jump / 1000:.1f} km in {t1 - t0:.0f} s {_relative(view, t1)}"
    previous = scene.previous_stop
    if previous is not None:
        left = previous.left_at.timestamp()
        straight = distance_m(previous.lat, previous.lon, scene.door.lat, scene.door.lon)
        way = "by the day's route" if (previous.route_m or 0) > straight else "straight"
        beyond = max(straight, previous.route_m or 0) - scene.door.radius_m
        took = view.arrived - left
        if beyond > rules.min_jump_m and beyond / max(took, 1.0) > fastest:
            fastest = beyond / max(took, 1.0)
            where = f"the previous stop is {beyond / 1000:.1f} km {way} from the geofence, left {_minutes(took)} before"
        px, py = (previous.lon - scene.door.lon) * view.kx, (previous.lat - scene.door.lat) * view.ky
        for k, track in enumerate(view.tracks):
            i = bisect_right(track.t, left)
            if i < len(track.t):
                jump = hypot(track.x[i] - px, track.y[i] - py) - track.acc[i]
                took = track.t[i] - left
                if jump > rules.min_jump_m and jump / max(took, 1.0) > fastest:
                    fastest = jump / max(took, 1.0)
                    where = (
                        f"{WHO[k]}'s first fix is {jump / 1000:.1f} km from the previous stop {_minutes(took)} after"
                    )
    for check_in in scene.check_ins:
        jumped = _check_in_jump(view, check_in)
        if jumped is not None and jumped[0] > fastest:
            fastest, where = jumped
    if not view.fix_count and previous is None:
        detail = "No fixes and no previous stop to follow the approach by."
        return Signal(SignalName.CONTINUITY, None, "km/h", 0.0, 0.0, False, detail)
    kmh = fastest * 3.6
    flagged = kmh > rules.max_speed_kmh
    if flagged:
        detail = f"A jump: {where}, {kmh:.0f} km/h, over the {rules.max_speed_kmh:.0f} km/h limit."
    else:
        detail = f"No move faster than {rules.max_speed_kmh:.0f} km/h beyond the fixes' accuracies"
        detail += f" (fastest {kmh:.0f} km/h)." if fastest else "."
    return Signal(
        SignalName.CONTINUITY, round(kmh, 1), "km/h", rules.continuity_weight, 0.0 if flagged else 1.0, flagged, detail
    )


def _check_in_jump(view: _View, check_in: CheckInFix) -> tuple[float, str] | None:
    """How fast the agent would have moved between the check-in and their own fixes just before and after it (m/s,
    beyond both accuracies), the faster, and where: a check-in made away from the phone that tracks the agent."""
    if check_in.agent not in view.scene.agents:
        return None
    k = view.scene.agents.index(check_in.agent)
    track, door = view.tracks[k], view.scene.door
    t = check_in.received_at.timestamp()
    x, y = (check_in.lon - door.lon) * view.kx, (check_in.lat - door.lat) * view.ky
    found: tuple[float, str] | None = None
    i = bisect_right(track.t, t)
    for j in (i - 1, i):
        if not 0 <= j < len(track.t):
            continue
        jump = hypot(track.x[j] - x, track.y[j] - y) - track.acc[j] - check_in.accuracy_m
        took = abs(t - track.t[j])
        speed = jump / max(took, 1.0)
        if jump > view.rules.min_jump_m and (found is None or speed > found[0]):
            when = f"{_minutes(took)} {'before' if track.t[j] <= t else 'after'} it"
            found = (speed, f"{WHO[k]}'s check-in is {jump / 1000:.1f} km from their own fix {when}")
    return found


def _mock(view: _View) -> Signal:
    mocked = [sum(fix.mock for fix in track.fixes) for track in view.tracks]
    flagged = sum(mocked) > 0
    if flagged:
        parts = [
            f"{count} of {len(track.t)} fixes of {WHO[k]}"
            for k, (count, track) in enumerate(zip(mocked, view.tracks, strict=True))
            if count
        ]
        detail = f"The phone flagged a mock location on {' and '.join(parts)}."
    else:
        detail = f"No mock-location flag on the {view.fix_count} fixes." if view.fix_count else "No fixes to look at."
    return _spoof(view, SignalName.MOCK_LOCATION, sum(mocked), "count", flagged, detail)


def _accuracy(view: _View) -> Signal:
    rules = view.rules
    floor = rules.accuracy_floor_m
    under = sum(1 for track in view.tracks for accuracy in track.acc if accuracy < floor)
    runs = [_longest_run(track.acc) for track in view.tracks]
    constant = [k for k, run in enumerate(runs) if run >= rules.constant_accuracy_run]
    findings = (
        [f"{under} fixes claim an accuracy under {floor:g} m"] if under >= rules.impossible_accuracy_fixes else []
    )
    findings += [f"{runs[k]} consecutive fixes of {WHO[k]} claim one and the same accuracy" for k in constant]
    if findings:
        detail = f"Impossible accuracy: {' and '.join(findings)}."
    elif view.fix_count:
        detail = f"The fixes' accuracies vary as real GPS does ({under} under {floor:g} m, {max(runs)} alike in a row)."
    else:
        detail = "No fixes to look at."
    return _spoof(
        view, SignalName.IMPOSSIBLE_ACCURACY, under + sum(runs[k] for k in constant), "count", bool(findings), detail
    )


def _longest_run(values: Sequence[object]) -> int:
    """The most consecutive equal values."""
    longest = run = 1 if values else 0
    for before, value in pairwise(values):
        if value == before:
            run += 1
            if run > longest:
                longest = run
        else:
            run = 1
    return longest


def _repeats(view: _View) -> Signal:
    runs = [_longest_run([(fix.lat, fix.lon) for fix in track.fixes]) for track in view.tracks]
    longest = max(runs)
    whose = runs.index(longest)
    flagged = longest >= view.rules.repeated_run
    if flagged:
        detail = (
            f"{longest} consecutive fixes of {WHO[whose]} at the same position to the last digit: real GPS jitters."
        )
    elif view.fix_count:
        detail = f"Consecutive fixes jitter as real GPS does (at most {longest} at one position)."
    else:
        detail = "No fixes to look at."
    return _spoof(view, SignalName.REPEATED_COORDINATES, longest, "count", flagged, detail)


def _identical(view: _View) -> Signal:
    first, second = (track.fixes for track in view.tracks)
    if not first or not second:
        detail = "Only one agent's phone sent fixes: nothing to compare." if first or second else "No fixes to look at."
        return Signal(SignalName.IDENTICAL_DEVICES, None, "share", 0.0, 0.0, False, detail)
    shares = []
    for one, other in ((first, second), (second, first)):
        points = {(fix.lat, fix.lon) for fix in other}
        same = sum(1 for fix in one if (fix.lat, fix.lon) in points)
        shares.append((same / len(one), same))
    share, same = max(shares)
    flagged = same >= view.rules.identical_min_fixes and share >= view.rules.identical_share
    detail = f"{same} fixes of one phone are at the other's exact coordinates ({share:.0%} of its track)"
    detail += ": two real devices never agree to the last digit." if flagged else "."
    return _spoof(view, SignalName.IDENTICAL_DEVICES, round(share, 3), "share", flagged, detail)


def _clock(view: _View) -> Signal:
    worst, source = 0.0, ""
    for k, track in enumerate(view.tracks):
        for fix in track.fixes:
            if abs(fix.clock_skew_s) > worst:
                worst, source = float(abs(fix.clock_skew_s)), f"{WHO[k]}'s phone"
    for check_in in view.scene.check_ins:
        # a check-in received long after its device time may have waited for the network; one from the future not
        ahead = (check_in.device_at - check_in.received_at).total_seconds()
        if ahead > worst:
            worst, source = ahead, "a check-in's device clock"
    flagged = worst > view.rules.max_clock_skew_s
    if flagged:
        detail = f"{source[0].upper()}{source[1:]} was {_minutes(worst)} off the server's clock."
    else:
        detail = f"The device clocks were within {worst:.0f} s of the server's."
    weight = view.rules.spoof_weight if view.fix_count or view.scene.check_ins else 0.0
    return Signal(SignalName.CLOCK_SKEW, worst, "s", weight, 0.0 if flagged else 1.0, flagged, detail)


def _replay(view: _View) -> Signal:
    rules = view.rules
    earlier = {(fix.lat, fix.lon): fix for fixes in view.scene.earlier_tracks for fix in fixes}
    if not earlier or not view.fix_count:
        why = "no earlier track of this address" if not earlier else "no fixes today"
        return Signal(SignalName.REPLAYED_TRACK, None, "share", 0.0, 0.0, False, f"Nothing to compare: {why}.")
    shift = rules.replay_min_shift_s
    best, best_same, whose = 0.0, 0, 0
    for k, track in enumerate(view.tracks):
        same = 0
        for t, fix in zip(track.t, track.fixes, strict=True):
            seen = earlier.get((fix.lat, fix.lon))
            # the same fix read again (an earlier visit of the address the same hour) is no replay
            if seen is not None and abs(t - seen.at.timestamp() + seen.clock_skew_s) > shift:
                same += 1
        if track.t and same / len(track.t) >= best:
            best, best_same, whose = same / len(track.t), same, k
    flagged = best_same >= rules.replay_min_fixes and best >= rules.replay_share
    detail = f"{best_same} fixes of {WHO[whose]} repeat an earlier visit's coordinates to the last digit ({best:.0%})"
    detail += ": an earlier track replayed." if flagged else "."
    return _spoof(view, SignalName.REPLAYED_TRACK, round(best, 3), "share", flagged, detail)


def _photos(view: _View) -> Signal:
    """Only a photo's position can agree with the door (then its time must fit the visit too); a time alone can
    only disagree. A photo without a position is unknown, never agreement: geotagging is easy to switch off."""
    rules, door, scene = view.rules, view.scene.door, view.scene
    checked, agree, unplaced, problems = 0, 0, 0, []
    for number, photo in enumerate(scene.photos, 1):
        far = None if photo.lat is None or photo.lon is None else distance_m(door.lat, door.lon, photo.lat, photo.lon)
        agreement = photo_agreement(
            far, photo.taken_at, scene.arrived_at, scene.until, far_m=rules.photo_far_m, slack=rules.photo_slack
        )
        placed, ok = far is not None, True
        if photo.lat is not None and photo.lon is not None and far is not None:
            if agreement.far:
                ok = False
                problems.append(f"photo {number} was taken {far / 1000:.1f} km from the door")
            else:  # within the photo distance, it agrees only inside the geofence and near the team's own track
                ok = far <= door.radius_m and (
                    photo.taken_at is None or _near_track(view, photo.lat, photo.lon, photo.taken_at)
                )
        if photo.taken_at is not None and agreement.outside_visit:
            ok = False
            when = _relative(view, photo.taken_at.timestamp())
            problems.append(f"photo {number} was taken {when}, outside the visit")
        unplaced += not placed
        checked += placed or not ok
        agree += placed and ok
    if not checked:
        detail = "No photos yet." if not view.scene.photos else "No photo carries an EXIF position: unknown."
        return Signal(SignalName.PHOTO_AGREEMENT, None, "share", 0.0, 0.0, False, detail)
    share = agree / checked
    detail = f"{agree} of {checked} photos agree with the door and the time of the visit"
    detail += f" ({unplaced} without an EXIF position, which cannot)" if unplaced else ""
    detail += f": {' and '.join(problems)}." if problems else "."
    return Signal(
        SignalName.PHOTO_AGREEMENT, round(share, 3), "share", rules.photo_weight, share, bool(problems), detail
    )


def _near_track(view: _View, lat: float, lon: float, taken_at: datetime) -> bool:
    """Whether a photo's position is within the geofence radius (beyond its accuracy) of the track fix nearest its
    time, either agent's within `photo_track_s`; with no such fix it agrees."""
    t = taken_at.timestamp()
    x, y = (lon - view.scene.door.lon) * view.kx, (lat - view.scene.door.lat) * view.ky
    nearest: tuple[float, float] | None = None  # (time apart, distance beyond accuracy)
    for track in view.tracks:
        i = bisect_right(track.t, t)
        for k in (i - 1, i):
            if (
                0 <= k < len(track.t)
                and abs(track.t[k] - t) <= view.rules.photo_track_s
                and (nearest is None or abs(track.t[k] - t) < nearest[0])
            ):
                nearest = (abs(track.t[k] - t), hypot(track.x[k] - x, track.y[k] - y) - track.acc[k])
    return nearest is None or nearest[1] <= view.scene.door.radius_m


def _recordings(view: _View) -> Signal:
    rules = view.rules
    total = sum(view.scene.recordings_s)
    on_site = view.on_site_s()
    if not view.scene.recordings_s or on_site <= 0:
        detail = "No recordings yet." if not view.scene.recordings_s else "No time on site to compare with."
        return Signal(SignalName.RECORDING_AGREEMENT, None, "s", 0.0, 0.0, False, detail)
    most = on_site * rules.recording_over_share + rules.recording_slack_s
    score = min(1.0, total / on_site) if total <= most else most / total
    detail = f"Recordings of {total:.0f} s for {on_site:.0f} s on site ({total / on_site:.0%})"
    detail += ": longer than the visit." if total > most else "."
    return Signal(SignalName.RECORDING_AGREEMENT, round(total, 1), "s", rules.recording_weight, score, False, detail)
