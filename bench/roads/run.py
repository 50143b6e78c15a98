"""Road engines on a generated city (tests/synthetic_city.py) or a real extract: what a matrix costs, and what
straight lines cost a plan.

    python -m bench.roads matrix [--blocks 100] [--sizes 100,500,1000,2000] [--repeats 3]
    python -m bench.roads straight-lines [--blocks 40] [--visits 240] [--time-limit 20] [--extract FILE.osm.pbf]
    python -m bench.roads draw [--blocks 100] [--teams 60] [--stops 16] [--repeats 5]

`matrix`: the road data built once (build time and size printed), then for each size the matrix time (median of
the repeats) and the peak memory it added, per engine: great circles, the embedded OSRM (osrm-bindings, in this
process) and an OSRM server (the package's osrm-routed on loopback, through `OsrmTable`, 1,000 points a request).
Each engine and size runs in a fresh process, so that its peak memory is its own; the server's own memory is not
counted.

`straight-lines`: one branch day in the city (visits on both banks, or over a real extract's streets; preferred
windows inside the legal visiting hours 08:00–21:00, teams from the office 12:00–21:00, up to the legal hour)
planned on great circles, then replayed on the road engine's (calibrated) times: the visits that start after their
window or after the legal hours, the teams back late, the km the plan believed against the km driven; next to the
same day planned on the roads.

`draw`: a branch day's routes drawn along the roads (`EmbeddedOsrm.path`, leg by leg, then simplified as a sheet
stores it): the time for all the teams (median of the repeats) and the points stored, next to straight lines; and
what the off-route watch then pays per fix (`distance_to_route_m`) against a road line and a straight one.
"""

import argparse
import multiprocessing
import resource
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import numpy as np
import osmium

from api.roads.build import OSRM_PACKAGE, build_roads
from api.roads.store import DATA_NAME
from api.rules.tracking import Point as TrackPoint
from api.rules.tracking import distance_to_route_m
from api.sheets.instance import simplified_line
from routing.kept import forget
from routing.matrix import EmbeddedOsrm, GreatCircle, MatrixProvider, OsrmTable, Point, TravelMode, snapped_m
from routing.model import Instance, Stop, Team, TimeWindow
from routing.plan import Plan
from routing.portfolio import solve
from tests.synthetic_city import City, write_city

HOUR = 3600
DRIVING = TravelMode.DRIVING
LEGAL = TimeWindow(8 * HOUR, 21 * HOUR)
SHIFT = TimeWindow(12 * HOUR, 21 * HOUR)  # the evening shift: debtors are home after work; it ends at the legal hour
WORK = Path(tempfile.gettempdir()) / "fieldvisit-bench-roads"


def _built(blocks: int, folder: Path) -> tuple[City, Path]:
    """The synthetic city and its road data, under `folder`."""
    city = write_city(folder / f"city-{blocks}.osm.pbf", blocks=blocks)
    print(f"city: {blocks} x {blocks} blocks a bank, extract {city.path.stat().st_size / 1e3:.0f} kB")
    return city, _road_data(city.path, folder, blocks)


def _road_data(extract: Path, folder: Path, key: int) -> Path:
    """The extract's road data under `folder`: built once, kept for the next run (the build is idempotent)."""
    started = time.perf_counter()
    built = build_roads(
        extract, folder / "roads", UUID(int=key), "car", [], max_snap_m=500, max_outside_share=0, progress=_say
    )
    print(
        f"{extract.name}: {'built' if built.built else 'kept from an earlier run'} in"
        f" {time.perf_counter() - started:.1f} s, {built.size_bytes / 1e6:.1f} MB of road data",
        flush=True,
    )
    return built.folder / DATA_NAME


def _say(line: str) -> None:
    print(line, flush=True)


def _points(city: City, count: int, seed: int) -> list[Point]:
    """Places spread over the city, on land (the river's strip, 400 m about the middle latitude, has no streets)."""
    rng = np.random.default_rng(seed)
    min_lat, min_lon, max_lat, max_lon = city.bbox
    middle, river = (min_lat + max_lat) / 2, 200 / 111_320
    points: list[Point] = []
    while len(points) < count:
        lat, lon = rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)
        if abs(lat - middle) > river:
            points.append((float(lat), float(lon)))
    return points


@dataclass(frozen=True)
class _Case:
    engine: str
    data: Path
    url: str
    points: list[Point]
    repeats: int


def _provider(case: _Case) -> MatrixProvider:
    if case.engine == "great circle":
        return GreatCircle(DRIVING)
    if case.engine == "embedded OSRM":
        return EmbeddedOsrm(case.data, fallback=None)
    return OsrmTable(case.url, fallback=None, max_points_per_request=1000, timeout_s=300)


def _measure(case: _Case, answer: "multiprocessing.Queue[tuple[float, float, str]]") -> None:
    provider = _provider(case)
    provider.matrices(case.points[:2])  # the engine loaded
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = []
    for _ in range(case.repeats):
        forget()  # each repeat asks the engine for every pair
        started = time.perf_counter()
        matrices = provider.matrices(case.points)
        seconds.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    answer.put((statistics.median(seconds), (peak - before) / 1024, matrices.source))


def _in_own_process(case: _Case) -> tuple[float, float, str]:
    context = multiprocessing.get_context("spawn")
    answer: multiprocessing.Queue[tuple[float, float, str]] = context.Queue()
    worker = context.Process(target=_measure, args=(case, answer))
    worker.start()
    worker.join()
    if worker.exitcode != 0:
        raise RuntimeError(f"measuring {case.engine} on {len(case.points)} points failed (exit {worker.exitcode})")
    return answer.get()


def _server(data: Path, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [str(OSRM_PACKAGE / "bin" / "osrm-routed"), "--algorithm", "ch", "--ip", "127.0.0.1", "--port", str(port),
         "--max-table-size", "10000", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nearest/v1/car/121.45,31.2", timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("osrm-routed did not start")


def matrix(blocks: int, sizes: Sequence[int], repeats: int, folder: Path) -> None:
    city, data = _built(blocks, folder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _server(data, port)
    try:
        print(f"{'points':>6}  {'engine':<14} {'median s':>9} {'peak MB':>8}  source")
        for size in sizes:
            points = _points(city, size, seed=size)
            for engine in ("great circle", "embedded OSRM", "OSRM server"):
                case = _Case(engine, data, f"http://127.0.0.1:{port}", points, repeats)
                seconds, megabytes, source = _in_own_process(case)
                print(f"{size:>6}  {engine:<14} {seconds:>9.3f} {megabytes:>8.0f}  {source}", flush=True)
    finally:
        server.kill()
        server.wait()


def _day(visits: int, seed: int, durations: np.ndarray, distances: np.ndarray) -> Instance:
    rng = np.random.default_rng(seed)
    stops = []
    for number in range(1, visits + 1):
        window = LEGAL
        if rng.random() < 0.4:  # a preferred window of 2 to 4 h inside the legal hours
            length = int(rng.integers(4, 9)) * 1800
            start = int(rng.integers(LEGAL.start_s // 1800, (LEGAL.end_s - length) // 1800 + 1)) * 1800
            window = TimeWindow(start, start + length)
        minutes = int(rng.integers(15, 41))
        stops.append(
            Stop(key=f"V{number:04d}", location=number, service_s=minutes * 60, windows=(window,), drop_cost=100_000)
        )
    teams = [
        Team(key=f"T{number:02d}", start_location=0, end_location=0, shift=SHIFT, max_visits=16)
        for number in range(1, max(1, round(visits * 0.06)) + 1)
    ]
    return Instance(teams, stops, durations_s=durations, distances_m=distances)


@dataclass
class _Replay:
    visits: int = 0
    late: int = 0  # started after the end of their window
    after_legal: int = 0  # started after the legal hours
    late_min: float = 0.0
    back_late: int = 0  # teams back at the office after their shift
    believed_km: float = 0.0
    driven_km: float = 0.0


def _replay(plan: Plan, instance: Instance, durations: np.ndarray, distances: np.ndarray) -> _Replay:
    """The plan's routes driven on `durations`: each visit starts once the team is there and its window is open."""
    stops = {stop.key: stop for stop in instance.stops}
    replay = _Replay()
    for route in plan.routes:
        if not route.visits:
            continue
        clock, here = route.start_s, 0
        for visit in route.visits:
            stop = stops[visit.stop]
            clock += int(durations[here, stop.location])
            replay.driven_km += distances[here, stop.location] / 1000
            window = stop.windows[0]
            start = max(clock, window.start_s)
            replay.visits += 1
            if start > window.end_s:
                replay.late += 1
                replay.late_min += (start - window.end_s) / 60
            replay.after_legal += start > LEGAL.end_s
            clock, here = start + stop.service_s, stop.location
        clock += int(durations[here, 0])
        replay.driven_km += distances[here, 0] / 1000
        replay.back_late += clock > SHIFT.end_s
        replay.believed_km += route.distance_m / 1000
    return replay


def straight_lines(blocks: int, visits: int, time_limit_s: int, seed: int, folder: Path, extract: Path | None) -> None:
    """The day on the synthetic city, or on a real extract's streets (`extract`: places drawn over its box, the
    office the first; places its car roads do not reach are drawn again)."""
    if extract is None:
        city, data = _built(blocks, folder)
        points = [city.points["office"], *_points(city, visits, seed)]
    else:
        data, points = _real_day(extract, folder, visits, seed)
    straight = GreatCircle(DRIVING).matrices(points)
    road = EmbeddedOsrm(data, time_factor=DRIVING.road_time_factor, fixed_s=DRIVING.fixed_s).matrices(points)
    print(f"{visits} visits, {round(visits * 0.06)} teams; road matrix: {road.source}")
    limit = timedelta(seconds=time_limit_s)
    rows = []
    for name, used in (("great circles", straight), ("roads", road)):
        instance = _day(visits, seed, used.durations_s, used.distances_m)
        plan = solve(instance, time_limit=limit, seed=seed)
        rows.append((name, len(plan.dropped), _replay(plan, instance, road.durations_s, road.distances_m)))
    print(
        f"{'planned on':<14} {'planned':>7} {'dropped':>7} {'late':>5} {'late min':>8} {'after 21:00':>11}"
        f" {'back late':>9} {'km believed':>11} {'km driven':>9}"
    )
    for name, dropped, replay in rows:
        print(
            f"{name:<14} {replay.visits:>7} {dropped:>7} {replay.late:>5} {replay.late_min:>8.0f}"
            f" {replay.after_legal:>11} {replay.back_late:>9} {replay.believed_km:>11.1f} {replay.driven_km:>9.1f}"
        )


def draw(blocks: int, teams: int, stops: int, repeats: int, seed: int, folder: Path) -> None:
    """Each team's route through `stops` places of the city, drawn as a sheet stores it."""
    city, data = _built(blocks, folder)
    office = city.points["office"]
    places = _points(city, teams * stops, seed)
    paths = [[office, *places[team * stops : (team + 1) * stops], office] for team in range(teams)]
    engine = EmbeddedOsrm(data)
    engine.path(paths[0][:2])  # the engine loaded once, as in a server that has planned before
    times, lines = [], []
    for _ in range(repeats):
        began = time.perf_counter()
        lines = [simplified_line(engine.path(path), path) for path in paths]
        times.append(time.perf_counter() - began)
    points = sum(len(line) for line in lines)
    print(
        f"{teams} teams x {stops} stops ({teams * (stops + 1)} legs): drawn on the roads in"
        f" {statistics.median(times):.2f} s (median of {repeats}), {points:,} points stored"
        f" ({points / (teams * (stops + 1)):.0f} a leg; straight lines: {teams * (stops + 2):,})"
    )
    fixes = [TrackPoint(lat, lon) for lat, lon in _points(city, 200, seed + 1)]
    for name, line in (("road line", lines[0]), ("straight line", paths[0])):
        route = [TrackPoint(lat, lon) for lat, lon in line]
        runs = []
        for _ in range(repeats):
            began = time.perf_counter()
            for fix in fixes:
                distance_to_route_m(fix, route)
            runs.append((time.perf_counter() - began) / len(fixes))
        print(f"off route, per fix against a {name} of {len(route)} points: {statistics.median(runs) * 1e6:.0f} µs")


def _real_day(extract: Path, folder: Path, visits: int, seed: int) -> tuple[Path, list[Point]]:
    data = _road_data(extract, folder, 0)
    min_lat, min_lon, max_lat, max_lon = _box(extract)
    rng = np.random.default_rng(seed)
    points: list[Point] = []
    while len(points) < visits + 1:
        drawn = [(float(rng.uniform(min_lat, max_lat)), float(rng.uniform(min_lon, max_lon))) for _ in range(visits)]
        near = [point for point, metres in zip(drawn, snapped_m(data, drawn), strict=True) if metres <= 50]
        unreachable = EmbeddedOsrm(data, fallback=GreatCircle(DRIVING)).matrices([*points, *near]).unreachable
        points = [point for row, point in enumerate([*points, *near]) if row not in unreachable][: visits + 1]
    return data, points


def _box(extract: Path) -> tuple[float, float, float, float]:
    """The extract's nodes' box: (min_lat, min_lon, max_lat, max_lon)."""
    nodes = np.array([(node.lat, node.lon) for node in osmium.FileProcessor(str(extract), osmium.osm.NODE)])
    return float(nodes[:, 0].min()), float(nodes[:, 1].min()), float(nodes[:, 0].max()), float(nodes[:, 1].max())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.roads", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    matrix_parser = commands.add_parser("matrix")
    matrix_parser.add_argument("--blocks", type=int, default=100)
    matrix_parser.add_argument("--sizes", default="100,500,1000,2000")
    matrix_parser.add_argument("--repeats", type=int, default=3)
    lines = commands.add_parser("straight-lines")
    lines.add_argument("--blocks", type=int, default=40)
    lines.add_argument("--visits", type=int, default=240)
    lines.add_argument("--time-limit", type=int, default=20)
    lines.add_argument("--seed", type=int, default=1)
    lines.add_argument("--extract", type=Path, help="plan on this real extract's streets, not the synthetic city")
    drawing = commands.add_parser("draw")
    drawing.add_argument("--blocks", type=int, default=100)
    drawing.add_argument("--teams", type=int, default=60)
    drawing.add_argument("--stops", type=int, default=16)
    drawing.add_argument("--repeats", type=int, default=5)
    drawing.add_argument("--seed", type=int, default=1)
    for command in (matrix_parser, lines, drawing):
        command.add_argument("--work", type=Path, default=WORK, help="where the cities and their road data are kept")
    arguments = parser.parse_args()
    arguments.work.mkdir(parents=True, exist_ok=True)
    if arguments.command == "matrix":
        matrix(arguments.blocks, [int(size) for size in arguments.sizes.split(",")], arguments.repeats, arguments.work)
    elif arguments.command == "draw":
        draw(arguments.blocks, arguments.teams, arguments.stops, arguments.repeats, arguments.seed, arguments.work)
    else:
        straight_lines(
            arguments.blocks, arguments.visits, arguments.time_limit, arguments.seed, arguments.work, arguments.extract
        )
