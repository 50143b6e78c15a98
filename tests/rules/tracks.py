"""A library of synthetic but realistic visits for the presence rule: honest days and frauds, each drawn from a
seeded `random.Random`, so every run sees the same fixes.

An honest day in Shanghai: the team waits at its previous stop (2-5 km away), drives there (22-36 km/h), parks a few
hundred metres from the door, walks to it side by side (1.2-1.5 m/s, 2-4 m apart), waits, checks in, and during the
visit one agent checks the mailbox or talks to a neighbour 25-50 m away while the other stays; then both walk back
to the car and drive on. Each phone takes a fix every 15 s (a few dropped). City GPS noise is a shared, slowly
varying error (the same environment for phones side by side: 5-15 m, 30 m in an urban canyon) plus a small,
slowly varying error of each device (1.5-2.5 m; phones of other makes err more on their own) and a little white noise;
accuracies vary with the noise. Each phone's step counter counts its carrier's steps (each person their own stride,
and a few steps now and then at the door) with its own small bias. Check-ins are taken from the tracks, the photos
near the door during the visit (EXIF times by the phone's clock), and one recording covers the visit.

Positions are planned in metres north and east of the door, times in seconds from the arrival (the first check-in
received by the server).
"""

import random
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from math import cos, exp, pi, radians, sin, sqrt

from api.rules.presence import (
    CheckInFix,
    Door,
    PhotoFix,
    PreviousStop,
    SignalName,
    TrackFix,
    VisitScene,
)

CITY = (31.2304, 121.4737)  # People's Square, Shanghai
DAY = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai
METRE_LAT = 1 / 111_195
FIX_S = 15.0
BEFORE_S = 45 * 60.0  # what the server reads of the approach
AFTER_S = 10 * 60.0  # and after `until`
RADIUS_M = 200.0
AGENTS = ("agent-1", "agent-2")

Point = tuple[float, float]  # metres north and east of the door
Key = tuple[float, float, float]  # seconds from the arrival, metres north, metres east


@dataclass(frozen=True)
class Case:
    name: str
    fraud: bool
    expected: frozenset[SignalName]  # the signals it must raise (empty for an honest day)
    scene: VisitScene  # at the visit's completion
    start_scene: VisitScene  # the same visit at its start


class Route:
    """Where someone is: straight lines between timed keyframes, standing still before the first and after the
    last."""

    def __init__(self, keys: list[Key]) -> None:
        self.keys = sorted(keys)
        self.times = [key[0] for key in self.keys]

    def at(self, t: float) -> Point:
        i = bisect_right(self.times, t)
        if i == 0:
            return self.keys[0][1:]
        if i == len(self.keys):
            return self.keys[-1][1:]
        (t0, n0, e0), (t1, n1, e1) = self.keys[i - 1], self.keys[i]
        share = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
        return n0 + share * (n1 - n0), e0 + share * (e1 - e0)

    def speed(self, t: float) -> float:
        i = bisect_right(self.times, t)
        if i == 0 or i == len(self.keys):
            return 0.0
        (t0, n0, e0), (t1, n1, e1) = self.keys[i - 1], self.keys[i]
        return sqrt((n1 - n0) ** 2 + (e1 - e0) ** 2) / (t1 - t0) if t1 > t0 else 0.0


class Environment:
    """The error shared by phones side by side: a sum of slow sinusoids (periods of 1.5 to 15 minutes) per axis,
    of standard deviation `sigma_m`."""

    def __init__(self, rng: random.Random, sigma_m: float) -> None:
        self.sigma_m = sigma_m
        amplitude = sigma_m * sqrt(2 / 4)  # four components per axis, each of variance a²/2
        self.waves = [
            [(amplitude, 2 * pi / rng.uniform(90, 900), rng.uniform(0, 2 * pi)) for _ in range(4)] for _ in range(2)
        ]

    def error(self, t: float) -> Point:
        north, east = (sum(a * sin(w * t + phase) for a, w, phase in axis) for axis in self.waves)
        return north, east


class Walker:
    """A person's steps: the distance walked along their route over their stride, and a few steps now and then while
    they stand at the door."""

    def __init__(self, route: Route, rng: random.Random, visit_s: float) -> None:
        self.stride_m = rng.uniform(0.62, 0.8)
        self.walked = [0.0]
        for (t0, n0, e0), (t1, n1, e1) in zip(route.keys, route.keys[1:], strict=False):
            metres = sqrt((n1 - n0) ** 2 + (e1 - e0) ** 2)
            on_foot = t1 > t0 and 0.3 <= metres / (t1 - t0) <= 2.5
            self.walked.append(self.walked[-1] + (metres if on_foot else 0.0))
        self.route = route
        minutes = range(int(visit_s / 60))
        self.shuffles = [(60.0 * m + rng.uniform(0, 60), rng.randint(2, 12)) for m in minutes if rng.random() < 0.4]

    def steps(self, t: float) -> float:
        times = self.route.times
        i = bisect_right(times, t)
        if i == 0:
            metres = 0.0
        elif i == len(times):
            metres = self.walked[-1]
        else:
            share = (t - times[i - 1]) / (times[i] - times[i - 1]) if times[i] > times[i - 1] else 1.0
            metres = self.walked[i - 1] + share * (self.walked[i] - self.walked[i - 1])
        return metres / self.stride_m + sum(count for at, count in self.shuffles if at <= t)


@dataclass
class Phone:
    """One device: its own slowly varying error (an AR(1) process, 60 s correlation), its clock's skew, whether it
    reports a speed, when it sent nothing, and its step counter (whose steps it counts, its bias, its count when the
    day's fixes begin; None: the phone sends no step counts)."""

    sigma_m: float
    skew_s: int = 0
    reports_speed: bool = True
    silent: tuple[float, float] | None = None  # seconds from the arrival
    accuracy_factor: float = 1.0
    carrier: int = 0  # the index of the walker carrying it
    step_bias: float = 1.0
    steps_from: int | None = None


@dataclass
class Plan:
    """An honest day's visit before its fixes are drawn: frauds change it, then `render` draws the fixes."""

    rng: random.Random
    door: tuple[float, float]  # lat, lon
    arrived_at: datetime
    visit_s: float  # from the arrival to the outcome's submission
    start_s: float  # from the arrival to the start
    routes: list[Route]
    walkers: list[Walker]
    environment: Environment
    phones: list[Phone]
    check_in_s: tuple[float, float]  # when each agent's check-in was taken, from the arrival
    previous: Point
    left_s: float  # the previous visit's completion, from the arrival
    photo_s: list[float]
    photo_without_gps: bool
    begins_s: float = -BEFORE_S  # the first fix drawn
    drop: float = 0.04

    def lat_lon(self, north: float, east: float) -> tuple[float, float]:
        lat, lon = self.door
        return lat + north * METRE_LAT, lon + east * METRE_LAT / cos(radians(lat))

    def when(self, seconds: float) -> datetime:
        return self.arrived_at + timedelta(seconds=seconds)


@dataclass(frozen=True)
class Visit:
    """A visit as the server knows it: the phones' fixes over the whole day window, the check-ins and the
    evidence; `scene` and `start_scene` are what the server passes to the rule at the completion and the start."""

    door: Door
    arrived_at: datetime
    started_at: datetime
    until: datetime
    fixes: tuple[tuple[TrackFix, ...], tuple[TrackFix, ...]]
    check_ins: tuple[CheckInFix, ...]
    photos: tuple[PhotoFix, ...]
    recordings_s: tuple[float, ...]
    previous_stop: PreviousStop | None
    earlier_tracks: tuple[tuple[TrackFix, ...], ...] = ()

    def window(self, begins: datetime, ends: datetime) -> dict[str, tuple[TrackFix, ...]]:
        """Each agent's fixes timed by the server's clock in [begins, ends], as the server reads them."""
        return {
            agent: tuple(fix for fix in fixes if begins <= fix.at - timedelta(seconds=fix.clock_skew_s) <= ends)
            for agent, fixes in zip(AGENTS, self.fixes, strict=True)
        }

    def scene(self) -> VisitScene:
        return VisitScene(
            door=self.door,
            agents=AGENTS,
            arrived_at=self.arrived_at,
            until=self.until,
            check_ins=self.check_ins,
            tracks=self.window(self.arrived_at - timedelta(seconds=BEFORE_S), self.until + timedelta(seconds=AFTER_S)),
            photos=self.photos,
            recordings_s=self.recordings_s,
            claimed_on_site_s=int((self.until - self.arrived_at).total_seconds()),
            previous_stop=self.previous_stop,
            earlier_tracks=self.earlier_tracks,
        )

    def start_scene(self) -> VisitScene:
        return VisitScene(
            door=self.door,
            agents=AGENTS,
            arrived_at=self.arrived_at,
            until=self.started_at,
            check_ins=tuple(c for c in self.check_ins if c.received_at <= self.started_at),
            tracks=self.window(self.arrived_at - timedelta(seconds=BEFORE_S), self.started_at),
            previous_stop=self.previous_stop,
            earlier_tracks=self.earlier_tracks,
        )

    def earlier_window(self) -> tuple[tuple[TrackFix, ...], ...]:
        """Its fixes as a later visit of the address reads them: from 45 min before the arrival to the completion."""
        tracks = self.window(self.arrived_at - timedelta(seconds=BEFORE_S), self.until)
        return tuple(fixes for fixes in tracks.values() if fixes)

    def shifted(self, by: timedelta) -> "Visit":
        """The same visit, every time moved by `by` (what a replaying app sends)."""
        return replace(
            self,
            arrived_at=self.arrived_at + by,
            started_at=self.started_at + by,
            until=self.until + by,
            fixes=tuple(tuple(replace(fix, at=fix.at + by) for fix in fixes) for fixes in self.fixes),  # type: ignore[arg-type]
            check_ins=tuple(
                replace(c, device_at=c.device_at + by, received_at=c.received_at + by) for c in self.check_ins
            ),
            photos=tuple(replace(p, taken_at=p.taken_at + by if p.taken_at else None) for p in self.photos),
            previous_stop=replace(self.previous_stop, left_at=self.previous_stop.left_at + by)
            if self.previous_stop
            else None,
        )


def _polar(rng: random.Random, low_m: float, high_m: float) -> Point:
    distance, bearing = rng.uniform(low_m, high_m), rng.uniform(0, 2 * pi)
    return distance * cos(bearing), distance * sin(bearing)


def _plus(a: Point, b: Point) -> Point:
    return a[0] + b[0], a[1] + b[1]


def _apart(a: Point, b: Point) -> float:
    return sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2)


def plan(
    seed: int,
    *,
    noise_m: float | None = None,
    visit_s: float | None = None,
    arrived_at: datetime | None = None,
    door: tuple[float, float] | None = None,
    approach_s: float = BEFORE_S,
    silent: tuple[float, float] | None = None,
    skew_s: tuple[int, int] = (0, 0),
    errand: bool = True,
    device_noise_m: float | None = None,
    steps: bool = True,
) -> Plan:
    """An honest day's visit drawn from `seed`; the keywords fix what a variant needs (`silent`: when the second
    agent's phone sent nothing, in seconds from the arrival; `errand` False: the two agents never part;
    `device_noise_m`: each phone's own error, 2 m by default; `steps` False: the phones send no step counts)."""
    rng = random.Random(seed)
    if door is None:
        north, east = rng.uniform(-6000, 6000), rng.uniform(-6000, 6000)
        door = (CITY[0] + north * METRE_LAT, CITY[1] + east * METRE_LAT / cos(radians(CITY[0])))
    arrived_at = arrived_at or DAY + timedelta(minutes=rng.randrange(0, 6 * 60))
    visit_s = visit_s if visit_s is not None else rng.uniform(12 * 60, 25 * 60)
    noise_m = noise_m if noise_m is not None else rng.uniform(5, 15)

    car = _polar(rng, 220, 400)
    previous = _polar(rng, 2000, 5000)
    walk_s = _apart(car, (0, 0)) / rng.uniform(1.2, 1.5)
    door_at = -rng.uniform(20, 90)  # at the door this long before the check-in
    walking_at = door_at - walk_s
    parked_at = walking_at - rng.uniform(30, 90)
    left_at = parked_at - _apart(previous, car) / rng.uniform(6, 10)
    back_s = walk_s * rng.uniform(0.95, 1.1)
    onward = _plus(car, _polar(rng, 3000, 4000))
    stand_a = _polar(rng, 0.5, 2)
    beside = _polar(rng, 2, 4)  # the second agent walks and stands this far from the first

    def route(offset: Point, visit: list[Key]) -> Route:
        moved = [
            (left_at, *previous),
            (parked_at, *car),
            (walking_at, *car),
            (door_at, *stand_a),
            *visit,
            (visit_s, *stand_a),
            (visit_s + back_s, *car),
            (visit_s + back_s + 60, *car),
            (visit_s + back_s + 60 + 400, *onward),
        ]
        return Route([(t, north + offset[0], east + offset[1]) for t, north, east in moved])

    # during the visit the second agent checks the mailbox, or talks to a neighbour, 25-50 m off
    mailbox = _polar(rng, 25, 50)
    errand_at = rng.uniform(60, max(90, min(360, visit_s * 0.3)))
    walk_errand = _apart(mailbox, stand_a) / 1.3
    errand_s = min(rng.uniform(100, 200), visit_s - 30 - errand_at - 2 * walk_errand)
    errand_keys = [
        (errand_at, *stand_a),
        (errand_at + walk_errand, mailbox[0] - beside[0], mailbox[1] - beside[1]),
        (errand_at + walk_errand + errand_s, mailbox[0] - beside[0], mailbox[1] - beside[1]),
        (errand_at + 2 * walk_errand + errand_s, *stand_a),
    ]
    routes = [route((0, 0), []), route(beside, errand_keys if errand else [])]
    scale = 1.0 if device_noise_m is None else device_noise_m / 2
    phones = [
        Phone(rng.uniform(1.5, 2.5) * scale, skew_s[0], rng.random() < 0.8, None, rng.uniform(0.9, 1.3)),
        Phone(rng.uniform(1.5, 2.5) * scale, skew_s[1], rng.random() < 0.8, silent, rng.uniform(0.9, 1.3)),
    ]
    pedometers = random.Random(seed * 31 + 7)  # its own draws: the positions stay what they were without steps
    walkers = [Walker(route, pedometers, visit_s) for route in routes]
    for carrier, phone in enumerate(phones):
        phone.carrier = carrier
        phone.step_bias = pedometers.uniform(0.985, 1.015)
        phone.steps_from = pedometers.randint(2_000, 30_000) if steps else None
    photos = sorted(rng.uniform(30, visit_s - 30) for _ in range(3))
    return Plan(
        rng=rng,
        door=door,
        arrived_at=arrived_at,
        visit_s=visit_s,
        start_s=rng.uniform(40, 150),
        routes=routes,
        walkers=walkers,
        environment=Environment(rng, noise_m),
        phones=phones,
        check_in_s=(-1.0, rng.uniform(8, 40)),
        previous=previous,
        left_s=left_at - rng.uniform(0, 180),
        photo_s=photos,
        photo_without_gps=rng.random() < 0.3,
        begins_s=-approach_s,
    )


Spoof = Callable[[int, float], tuple[float, float, float] | None]  # (agent, t) -> a spoofed lat, lon, accuracy


def render(plan: Plan, spoof: Spoof | None = None) -> Visit:
    """Draw the plan's fixes, check-ins, photos and recording. `spoof` replaces a phone's position and accuracy
    while a spoofing app runs."""
    rng, env = plan.rng, plan.environment
    ends_s = plan.visit_s + AFTER_S
    tracks: list[tuple[TrackFix, ...]] = []
    for agent, (route, phone) in enumerate(zip(plan.routes, plan.phones, strict=True)):
        fixes: list[TrackFix] = []
        own = [rng.gauss(0, phone.sigma_m), rng.gauss(0, phone.sigma_m)]
        last = plan.begins_s
        t = plan.begins_s + rng.uniform(0, FIX_S)
        skew = timedelta(seconds=phone.skew_s)
        while t < ends_s:
            keep = sqrt(1 - exp(-2 * (t - last) / 60))
            decay = exp(-(t - last) / 60)
            own = [value * decay + rng.gauss(0, phone.sigma_m) * keep for value in own]
            last = t
            silent = phone.silent is not None and phone.silent[0] <= t <= phone.silent[1]
            if not silent and rng.random() >= plan.drop:
                spoofed = spoof(agent, t) if spoof else None
                if spoofed:
                    lat, lon, accuracy = spoofed
                    speed: float | None = 0.0
                else:
                    north, east = route.at(t)
                    shared = env.error(t)
                    north += shared[0] + own[0] + rng.gauss(0, 0.5)
                    east += shared[1] + own[1] + rng.gauss(0, 0.5)
                    lat, lon = plan.lat_lon(north, east)
                    accuracy = max(3.0, env.sigma_m * phone.accuracy_factor * rng.uniform(0.8, 1.4) + rng.gauss(0, 1))
                    speed = max(0.0, route.speed(t) + rng.gauss(0, 0.3)) if phone.reports_speed else None
                steps = None
                if phone.steps_from is not None:
                    steps = phone.steps_from + int(plan.walkers[phone.carrier].steps(t) * phone.step_bias)
                fixes.append(
                    TrackFix(
                        at=plan.when(t) + skew,
                        lat=round(lat, 7),
                        lon=round(lon, 7),
                        accuracy_m=round(accuracy, 1),
                        speed_mps=None if speed is None else round(speed, 1),
                        clock_skew_s=phone.skew_s,
                        steps=steps,
                    )
                )
            t += FIX_S + rng.gauss(0, 0.3)
        tracks.append(tuple(fixes))

    check_ins = []
    for agent, taken_s in enumerate(plan.check_in_s):
        phone = plan.phones[agent]
        received_s = 0.0 if agent == 0 else taken_s + rng.uniform(0.5, 2)
        spoofed = spoof(agent, taken_s) if spoof else None
        if spoofed:
            lat, lon, accuracy = spoofed
        else:
            north, east = _plus(plan.routes[agent].at(taken_s), env.error(taken_s))
            lat, lon = plan.lat_lon(north + rng.gauss(0, phone.sigma_m), east + rng.gauss(0, phone.sigma_m))
            accuracy = max(3.0, env.sigma_m * phone.accuracy_factor * rng.uniform(0.8, 1.4))
        check_ins.append(
            CheckInFix(
                agent=AGENTS[agent],
                lat=round(lat, 7),
                lon=round(lon, 7),
                accuracy_m=round(accuracy, 1),
                device_at=plan.when(taken_s) + timedelta(seconds=phone.skew_s),
                received_at=plan.when(received_s),
            )
        )

    photos = []
    for number, taken_s in enumerate(plan.photo_s):
        taken_at = (plan.when(taken_s) + timedelta(seconds=plan.phones[0].skew_s)).replace(microsecond=0)
        if number == 1 and plan.photo_without_gps:
            photos.append(PhotoFix(None, None, taken_at))
            continue
        spoofed = spoof(0, taken_s) if spoof else None
        if spoofed:
            lat, lon = spoofed[0], spoofed[1]
        else:
            north, east = _plus(plan.routes[0].at(taken_s), env.error(taken_s))
            lat, lon = plan.lat_lon(north + rng.gauss(0, 3), east + rng.gauss(0, 3))
        photos.append(PhotoFix(round(lat, 6), round(lon, 6), taken_at))

    previous_lat, previous_lon = plan.lat_lon(*plan.previous)
    return Visit(
        door=Door(plan.door[0], plan.door[1], RADIUS_M),
        arrived_at=plan.arrived_at,
        started_at=plan.when(plan.start_s),
        until=plan.when(plan.visit_s),
        fixes=(tracks[0], tracks[1]),
        check_ins=tuple(check_ins),
        photos=tuple(photos),
        recordings_s=(round(plan.visit_s - plan.start_s - rng.uniform(10, 40), 1),),
        previous_stop=PreviousStop(previous_lat, previous_lon, plan.when(plan.left_s)),
    )


def honest(seed: int, *, earlier: bool = True, **variant: object) -> Visit:
    """An honest visit, with an honest earlier visit of the same address a week before (for the replay check)."""
    drawn = plan(seed, **variant)  # type: ignore[arg-type]
    visit = render(drawn)
    if not earlier:
        return visit
    before = render(plan(seed + 10_000, door=drawn.door, arrived_at=drawn.arrived_at - timedelta(days=7, hours=2)))
    return replace(visit, earlier_tracks=before.earlier_window())


def _case(name: str, visit: Visit, *expected: SignalName) -> Case:
    return Case(name, bool(expected), frozenset(expected), visit.scene(), visit.start_scene())


def _office_spoofer(seed: int) -> Case:
    """Both agents stay at the office, 6-10 km away; from 3 minutes before the check-in until 2 minutes after the
    outcome their spoofing apps put each phone at a fixed point by the door with a fixed accuracy (no mock flag:
    the phones hide it)."""
    drawn = plan(seed)
    office = _polar(drawn.rng, 6000, 10000)
    drawn.routes = [Route([(0, *office)]), Route([(0, *_plus(office, (3, 1)))])]
    points = [(*drawn.lat_lon(3.1, -2.4), 5.0), (*drawn.lat_lon(-1.2, 4.3), 3.0)]
    points = [(round(lat, 7), round(lon, 7), accuracy) for lat, lon, accuracy in points]

    def spoof(agent: int, t: float) -> tuple[float, float, float] | None:
        return points[agent] if -180 <= t <= drawn.visit_s + 120 else None

    visit = render(drawn, spoof)
    return _case(
        "office_spoofer",
        replace(visit, previous_stop=None),
        SignalName.CONTINUITY,
        SignalName.REPEATED_COORDINATES,
        SignalName.IMPOSSIBLE_ACCURACY,
    )


def one_agent_two_phones(seed: int, name: str = "one_agent_two_phones", **variant: object) -> Case:
    """One agent walks from the car to the door and back with both phones, whose step counters count that agent's
    steps; the other never came."""
    drawn = plan(seed, **variant)  # type: ignore[arg-type]
    drawn.routes[1] = drawn.routes[0]
    drawn.phones[1].carrier = 0
    expected = (SignalName.TOGETHER_TOO_CLOSELY,) if drawn.phones[0].steps_from is not None else ()
    visit = render(drawn)
    return Case(name, True, frozenset(expected), visit.scene(), visit.start_scene())


def _teleport(seed: int) -> Case:
    """The team's previous visit, 20 km away, was completed 2 minutes before this check-in."""
    visit = honest(seed)
    door_lat, door_lon = visit.door.lat, visit.door.lon
    far = PreviousStop(door_lat + 20_000 * METRE_LAT, door_lon, visit.arrived_at - timedelta(minutes=2))
    return _case("teleport", replace(visit, previous_stop=far), SignalName.CONTINUITY)


def _teleport_mid_approach(seed: int) -> Case:
    """The track jumps mid-approach: 15 km away until 8 minutes before the check-in, then at the car."""
    drawn = plan(seed)
    far = _polar(drawn.rng, 15000, 15000)
    for index, route in enumerate(drawn.routes):
        car = route.at(-8 * 60 + 15)
        later = [key for key in route.keys if key[0] > -8 * 60 + 15]
        drawn.routes[index] = Route([(-8 * 60, *_plus(far, (index * 3, 0))), (-8 * 60 + 15, *car), *later])
    visit = render(drawn)
    return _case("teleport_mid_approach", replace(visit, previous_stop=None), SignalName.CONTINUITY)


def _replayed_track(seed: int) -> Case:
    """Last week's real visit of the address replayed today: the same fixes, every time a week later; the photos
    carry no EXIF."""
    earlier = honest(seed, earlier=False)
    today = earlier.shifted(timedelta(days=7))
    today = replace(
        today, photos=tuple(PhotoFix(None, None, None) for _ in today.photos), earlier_tracks=earlier.earlier_window()
    )
    return _case("replayed_track", today, SignalName.REPLAYED_TRACK)


def _identical_coordinates(seed: int) -> Case:
    """The second phone reports the first one's coordinates, to the last digit, at its own times."""
    visit = honest(seed)
    first, second = visit.fixes
    times = [fix.at for fix in first]
    copied = []
    for fix in second:
        i = min(max(bisect_right(times, fix.at), 1), len(first) - 1)
        nearest = min((first[i - 1], first[i]), key=lambda other: abs(other.at - fix.at))
        copied.append(replace(fix, lat=nearest.lat, lon=nearest.lon))
    return _case("identical_coordinates", replace(visit, fixes=(first, tuple(copied))), SignalName.IDENTICAL_DEVICES)


def _photo_elsewhere(seed: int) -> Case:
    """A photo whose EXIF position is 5 km from the door."""
    visit = honest(seed)
    photo = visit.photos[0]
    assert photo.lat is not None
    moved = replace(photo, lat=round(photo.lat - 5000 * METRE_LAT, 6))
    return _case("photo_elsewhere", replace(visit, photos=(moved, *visit.photos[1:])), SignalName.PHOTO_AGREEMENT)


def _photo_other_day(seed: int) -> Case:
    """A photo of the door taken two days before the visit (its EXIF time)."""
    visit = honest(seed)
    photo = visit.photos[-1]
    assert photo.taken_at is not None
    old = replace(photo, taken_at=photo.taken_at - timedelta(days=2))
    return _case("photo_other_day", replace(visit, photos=(*visit.photos[:-1], old)), SignalName.PHOTO_AGREEMENT)


def _mock_flag(seed: int) -> Case:
    """The first agent's phone flags its fixes as mock locations from 10 minutes before the check-in."""
    visit = honest(seed)
    first, second = visit.fixes
    mocked = tuple(replace(fix, mock=fix.at >= visit.arrived_at - timedelta(minutes=10)) for fix in first)
    return _case("mock_flag", replace(visit, fixes=(mocked, second)), SignalName.MOCK_LOCATION)


def _clock_far(seed: int) -> Case:
    """The second agent's phone clock is 30 minutes behind the server's."""
    return _case("clock_far", honest(seed, skew_s=(0, -1800)), SignalName.CLOCK_SKEW)


def _second_agent_elsewhere(seed: int) -> Case:
    """The second agent drove from the previous stop to a café 2.5 km from the door and stayed there; their check-in
    at the door was spoofed (the background track was not)."""
    drawn = plan(seed)
    cafe = _polar(drawn.rng, 2500, 2500)
    left = drawn.routes[1].keys[0]
    drawn.routes[1] = Route([left, (left[0] + _apart(left[1:], cafe) / 8, *cafe)])
    door_point = drawn.lat_lon(2.0, 1.0)

    def spoof(agent: int, t: float) -> tuple[float, float, float] | None:
        return (
            (round(door_point[0], 7), round(door_point[1], 7), 8.0) if agent == 1 and t == drawn.check_in_s[1] else None
        )

    return _case("second_agent_elsewhere", render(drawn, spoof), SignalName.CO_PRESENCE)


def library() -> list[Case]:
    """The honest days, then the frauds, each named."""
    honest_cases = [
        _case("honest", honest(1)),
        _case("honest_other_day", honest(2)),
        _case("honest_third_seed", honest(3)),
        _case("honest_urban_canyon", honest(4, noise_m=30.0)),
        _case("honest_short_visit", honest(5, visit_s=6 * 60)),
        _case("honest_phone_silent", honest(6, silent=(-5 * 60, 3 * 60))),
        _case("honest_clock_20s_off", honest(7, skew_s=(0, 20))),
        _case("honest_long_visit", honest(8, visit_s=40 * 60)),
        # side by side all the time (no errand), at low, ordinary and high noise, and with phones that count no steps
        _case("honest_side_by_side_low_noise", honest(9, errand=False, noise_m=4.0, device_noise_m=1.0)),
        _case("honest_side_by_side", honest(10, errand=False, device_noise_m=5.0)),
        _case("honest_side_by_side_high_noise", honest(11, errand=False, noise_m=30.0, device_noise_m=10.0)),
        _case("honest_side_by_side_no_steps", honest(12, errand=False, device_noise_m=1.0, steps=False)),
    ]
    frauds = [
        _office_spoofer(101),
        one_agent_two_phones(102),
        one_agent_two_phones(112, "one_agent_two_phones_low_noise", noise_m=4.0, device_noise_m=1.0),
        one_agent_two_phones(113, "one_agent_two_phones_ordinary_noise", device_noise_m=5.0),
        one_agent_two_phones(114, "one_agent_two_phones_high_noise", noise_m=30.0, device_noise_m=10.0),
        _teleport(103),
        _teleport_mid_approach(104),
        _replayed_track(105),
        _identical_coordinates(106),
        _photo_elsewhere(107),
        _photo_other_day(108),
        _mock_flag(109),
        _clock_far(110),
        _second_agent_elsewhere(111),
    ]
    return honest_cases + frauds


def scenes(count: int, *, seed: int = 1, approach_s: float = 30 * 60, visit_s: float = 20 * 60) -> Iterator[VisitScene]:
    """`count` honest completed visits for a benchmark: `approach_s` of approach, a `visit_s` visit and 10 minutes
    after it at one fix per 15 s from each of two phones, each visit compared with the previous one's fixes as an
    earlier track."""
    earlier: tuple[tuple[TrackFix, ...], ...] = ()
    for number in range(count):
        visit = render(plan(seed * 1_000_003 + number, approach_s=approach_s, visit_s=visit_s))
        yield replace(visit.scene(), earlier_tracks=earlier)
        earlier = visit.earlier_window()
