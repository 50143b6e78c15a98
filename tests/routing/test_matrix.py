"""Travel matrices: great circles checked against known distances and the textbook haversine, and the OSRM client
against a fake OSRM server on 127.0.0.1 that answers well, slowly, wrongly or not at all."""

import json
import logging
import math
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.matrix import (
    EARTH_MEAN_RADIUS_M,
    UNREACHABLE_M,
    UNREACHABLE_S,
    GreatCircle,
    Matrices,
    MatrixUnavailable,
    OsrmTable,
    Point,
    TravelMode,
)

PEOPLES_SQUARE = (31.2304, 121.4737)
THE_BUND = (31.2365, 121.4848)  # Zhongshan East 1st Road at Fuzhou Road
SHANGHAI = PEOPLES_SQUARE
BEIJING = (39.9042, 116.4074)  # Tiananmen


def haversine_m(a: Point, b: Point) -> float:
    """The textbook haversine formula, one pair at a time, as an independent reference."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_MEAN_RADIUS_M * math.asin(math.sqrt(h))


def straight(mode: TravelMode = TravelMode.DRIVING) -> GreatCircle:
    """Great circles without detour, so distances are the plain great-circle metres."""
    return GreatCircle(mode, detour_factor=1.0)


def test_peoples_square_to_the_bund_is_about_1_2_km() -> None:
    metres = straight().matrices([PEOPLES_SQUARE, THE_BUND]).distances_m[0, 1]

    assert 1_100 <= metres <= 1_300


def test_shanghai_to_beijing_is_1067_km_within_1_percent() -> None:
    metres = straight().matrices([SHANGHAI, BEIJING]).distances_m[0, 1]

    assert metres == pytest.approx(1_067_000, rel=0.01)


points_in_the_world = st.lists(
    st.tuples(st.floats(-89.9, 89.9), st.floats(-180, 180)).map(lambda p: (round(p[0], 6), round(p[1], 6))),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(points_in_the_world)
def test_great_circle_agrees_with_the_textbook_haversine(points: list[Point]) -> None:
    distances = straight().matrices(points).distances_m

    expected = np.array([[haversine_m(a, b) for b in points] for a in points])
    assert np.abs(distances - expected).max() <= 1  # rounded to the metre
    assert (distances == distances.T).all()
    assert (np.diag(distances) == 0).all()


@pytest.mark.parametrize(
    ("mode", "speed_mps", "detour_factor", "fixed_s"),
    [
        (TravelMode.WALKING, 1.3, 1.3, 0),
        (TravelMode.CYCLING, 4.2, 1.3, 60),
        (TravelMode.TRANSIT, 5.5, 1.4, 300),
        (TravelMode.DRIVING, 6.5, 1.4, 120),
    ],
)
def test_each_mode_travels_at_its_own_speed(
    mode: TravelMode, speed_mps: float, detour_factor: float, fixed_s: int
) -> None:
    assert (mode.speed_mps, mode.detour_factor, mode.fixed_s) == (speed_mps, detour_factor, fixed_s)

    matrices = GreatCircle(mode).matrices([PEOPLES_SQUARE, THE_BUND])

    metres = round(haversine_m(PEOPLES_SQUARE, THE_BUND) * detour_factor)
    assert matrices.distances_m[0, 1] == matrices.distances_m[1, 0] == metres
    assert matrices.durations_s[0, 1] == matrices.durations_s[1, 0] == math.ceil(metres / speed_mps) + fixed_s
    assert matrices.source == f"great-circle {mode}"


def test_walking_is_slower_than_cycling_transit_and_driving_across_the_city() -> None:
    far_apart = [PEOPLES_SQUARE, (31.1443, 121.8083)]  # Pudong airport, about 33 km
    across = {mode: GreatCircle(mode).matrices(far_apart).durations_s[0, 1] for mode in TravelMode}

    walking, cycling, transit, driving = (across[mode] for mode in TravelMode)

    assert walking > cycling > transit
    assert walking > driving


def test_a_caller_may_override_speed_detour_and_fixed_time() -> None:
    provider = GreatCircle("walking", speed_mps=2.0, detour_factor=1.5, fixed_s=60)

    matrices = provider.matrices([PEOPLES_SQUARE, THE_BUND])

    metres = round(haversine_m(PEOPLES_SQUARE, THE_BUND) * 1.5)
    assert matrices.distances_m[0, 1] == metres
    assert matrices.durations_s[0, 1] == math.ceil(metres / 2.0) + 60


def test_two_stops_at_the_same_place_cost_no_fixed_time() -> None:
    matrices = GreatCircle(TravelMode.TRANSIT).matrices([PEOPLES_SQUARE, PEOPLES_SQUARE, THE_BUND])

    assert matrices.durations_s[0, 1] == matrices.distances_m[0, 1] == 0
    assert matrices.durations_s[0, 2] > 300


@pytest.mark.parametrize(
    "overrides",
    [{"speed_mps": 0}, {"speed_mps": float("nan")}, {"detour_factor": 0.9}, {"fixed_s": -1}],
)
def test_nonsense_overrides_are_refused(overrides: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        GreatCircle(TravelMode.DRIVING, **overrides)


@pytest.mark.parametrize(
    "points",
    [[(91.0, 121.0)], [(31.0, 181.0)], [(float("nan"), 121.0)], [(31.0, 121.0, 0.0)], [("north", 121.0)]],
)
def test_points_off_the_globe_are_refused(points: list[Point]) -> None:
    with pytest.raises(ValueError):
        GreatCircle(TravelMode.DRIVING).matrices(points)


def test_no_points_give_empty_matrices() -> None:
    matrices = GreatCircle(TravelMode.DRIVING).matrices([])

    assert matrices.durations_s.shape == matrices.distances_m.shape == (0, 0)


def test_a_thousand_points_give_symmetric_read_only_integer_matrices() -> None:
    rng = np.random.default_rng(7)
    points = list(zip(rng.uniform(30.9, 31.5, 1000).tolist(), rng.uniform(121.1, 121.9, 1000).tolist(), strict=True))

    matrices = straight().matrices(points)

    for matrix in (matrices.durations_s, matrices.distances_m):
        assert matrix.shape == (1000, 1000)
        assert matrix.dtype == np.int64
        assert not matrix.flags.writeable
        assert (matrix == matrix.T).all()
        assert (np.diag(matrix) == 0).all()
        assert (matrix[~np.eye(1000, dtype=bool)] > 0).all()
    sample = [(0, 999), (17, 500), (998, 3)]
    assert all(abs(matrices.distances_m[i, j] - haversine_m(points[i], points[j])) <= 1 for i, j in sample)
    with pytest.raises(ValueError):
        matrices.distances_m[0, 1] = 5


def test_matrices_copy_what_they_are_given() -> None:
    durations = np.array([[0, 5], [6, 0]])

    matrices = Matrices(durations, [[0, 50], [60, 0]], source="test")
    durations[0, 1] = 99

    assert matrices.durations_s[0, 1] == 5
    assert not matrices.durations_s.flags.writeable
    assert matrices.distances_m.dtype == np.int64


@pytest.mark.parametrize(
    ("durations", "distances"),
    [([[0, 1]], [[0, 1]]), ([[0, -1], [1, 0]], [[0, 1], [1, 0]]), ([[0]], [[0, 1], [1, 0]])],
)
def test_matrices_refuse_bad_shapes_and_negative_values(durations: list[list[int]], distances: list[list[int]]) -> None:
    with pytest.raises(ValueError):
        Matrices(durations, distances, source="test")


# --- OSRM -------------------------------------------------------------------------------------------------------


def fake_duration_s(origin: Point, destination: Point) -> float:
    """Travel time the fake server reports: north is cheaper than south, so the matrix is asymmetric."""
    if origin == destination:
        return 0.0
    north, east = destination[0] - origin[0], destination[1] - origin[1]
    return 1e5 * max(north, 0) + 2e5 * max(-north, 0) + 5e4 * abs(east) + 0.3


def fake_distance_m(origin: Point, destination: Point) -> float:
    if origin == destination:
        return 0.0
    return 1.1e5 * abs(destination[0] - origin[0]) + 0.9e5 * abs(destination[1] - origin[1]) + 0.4


@dataclass
class FakeOsrm:
    """A /table endpoint on 127.0.0.1 whose answer a test chooses; it records every request. Points in `island`
    have road routes only among themselves (OSRM's null elsewhere); `snapped_m` is how far a point is from its
    nearest road (0 if not named)."""

    url: str
    answer: Callable[[dict[str, object]], tuple[int, bytes]] | None = None  # table payload -> status, body
    island: frozenset[Point] = frozenset()
    snapped_m: dict[Point, float] = field(default_factory=dict)
    hang: bool = False
    requests: list[str] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def table(self, path: str) -> tuple[int, bytes]:
        """OSRM's answer for a /table/v1/{profile}/{lon,lat;...}?... request, computed with the fake functions."""
        parts = urlsplit(path)
        coordinates = parts.path.split("/")[4]
        points = [(float(lat), float(lon)) for lon, lat in (pair.split(",") for pair in coordinates.split(";"))]
        query = parse_qs(parts.query)
        everyone = ";".join(str(i) for i in range(len(points)))
        sources = [points[int(i)] for i in query.get("sources", [everyone])[0].split(";")]
        destinations = [points[int(i)] for i in query.get("destinations", [everyone])[0].split(";")]
        payload: dict[str, object] = {
            "code": "Ok",
            "durations": [[self._routed(fake_duration_s, a, b) for b in destinations] for a in sources],
            "distances": [[self._routed(fake_distance_m, a, b) for b in destinations] for a in sources],
            "sources": [self._waypoint(point) for point in sources],
            "destinations": [self._waypoint(point) for point in destinations],
        }
        if self.answer is not None:
            return self.answer(payload)
        return 200, json.dumps(payload).encode()

    def route(self, path: str) -> tuple[int, bytes]:
        """OSRM's answer for a /route/v1/{profile}/{lon,lat;lon,lat}?overview=full&geometries=geojson request: a
        road that turns once, at the corner of the first point's latitude and the second's longitude."""
        (lon_a, lat_a), (lon_b, lat_b) = (pair.split(",") for pair in urlsplit(path).path.split("/")[4].split(";"))
        a, b = (float(lat_a), float(lon_a)), (float(lat_b), float(lon_b))
        if (a in self.island) != (b in self.island):
            return 400, json.dumps({"code": "NoRoute", "message": "Impossible route between points"}).encode()
        line = [[a[1], a[0]], [b[1], a[0]], [b[1], b[0]]]
        payload = {
            "code": "Ok",
            "routes": [{"geometry": {"type": "LineString", "coordinates": line}, "distance": fake_distance_m(a, b)}],
            "waypoints": [self._waypoint(a), self._waypoint(b)],
        }
        return 200, json.dumps(payload).encode()

    def _routed(self, travel: Callable[[Point, Point], float], origin: Point, destination: Point) -> float | None:
        return travel(origin, destination) if (origin in self.island) == (destination in self.island) else None

    def _waypoint(self, point: Point) -> dict[str, object]:
        return {"location": [point[1], point[0]], "distance": self.snapped_m.get(point, 0.0), "name": ""}


@contextmanager
def fake_osrm() -> Iterator[FakeOsrm]:
    """A FakeOsrm serving on 127.0.0.1 until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.requests.append(self.path)
            if fake.hang:
                fake.released.wait(5)
                return
            status, body = fake.route(self.path) if self.path.startswith("/route/") else fake.table(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake = FakeOsrm(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.released.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    with fake_osrm() as fake:
        yield fake


def city_points(count: int) -> list[Point]:
    rng = np.random.default_rng(count)
    return [
        (round(lat, 6), round(lon, 6))
        for lat, lon in zip(rng.uniform(31.1, 31.3, count), rng.uniform(121.3, 121.6, count), strict=True)
    ]


def expected_from_fake(points: list[Point]) -> tuple[np.ndarray, np.ndarray]:
    durations = np.array([[math.ceil(fake_duration_s(a, b)) for b in points] for a in points])
    distances = np.array([[round(fake_distance_m(a, b)) for b in points] for a in points])
    return durations, distances


def test_osrm_answers_one_request_with_lon_lat_coordinates(osrm: FakeOsrm) -> None:
    points = city_points(5)

    matrices = OsrmTable(osrm.url + "/").matrices(points)

    assert matrices.source == "osrm"
    durations, distances = expected_from_fake(points)
    assert (matrices.durations_s == durations).all()
    assert (matrices.distances_m == distances).all()
    assert not (matrices.durations_s == matrices.durations_s.T).all()  # rows are origins: the fake is asymmetric
    [request] = osrm.requests
    coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
    assert request == f"/table/v1/driving/{coordinates}?annotations=duration,distance"


def test_a_large_input_is_assembled_from_source_and_destination_blocks(osrm: FakeOsrm) -> None:
    points = city_points(9)

    matrices = OsrmTable(osrm.url, profile="foot", max_points_per_request=4).matrices(points)

    durations, distances = expected_from_fake(points)
    assert (matrices.durations_s == durations).all()
    assert (matrices.distances_m == distances).all()
    assert len(osrm.requests) == 25  # 5 chunks of at most 2 points, every ordered pair of chunks
    for request in osrm.requests:
        parts = urlsplit(request)
        assert parts.path.startswith("/table/v1/foot/")
        assert len(parts.path.split("/")[4].split(";")) <= 4
        assert parse_qs(parts.query)["annotations"] == ["duration,distance"]
    assert any("sources=0;1&destinations=2;3" in request for request in osrm.requests)


def test_the_same_points_again_are_not_asked_and_a_new_point_costs_its_row_and_column(osrm: FakeOsrm) -> None:
    points = city_points(6)
    provider = OsrmTable(osrm.url, fallback=None)

    first = provider.matrices(points[:5])
    again = provider.matrices(points[:5])
    asked = list(osrm.requests)
    grown = provider.matrices([points[5], *points[:5]])  # an urgent visit, wherever it comes in the list
    shuffled = provider.matrices(points[::-1])

    assert (first.reused_pairs, again.reused_pairs) == (0, 25)
    assert (again.durations_s == first.durations_s).all() and len(asked) == 1
    new = [urlsplit(request) for request in osrm.requests[1:]]
    named = [(len(url.path.split(";")), parse_qs(url.query)["sources"]) for url in new]
    assert named == [(7, ["0"]), (6, ["0;1;2;3;4"])]  # the new row (to everyone), the new column (from the others)
    assert grown.reused_pairs == 25 and shuffled.reused_pairs == 36 and len(osrm.requests) == 3
    durations, distances = expected_from_fake([points[5], *points[:5]])
    assert (grown.durations_s == durations).all() and (grown.distances_m == distances).all()
    assert (shuffled.durations_s == expected_from_fake(points[::-1])[0]).all()


def test_a_slow_server_means_the_fallback_and_says_why(osrm: FakeOsrm, caplog: pytest.LogCaptureFixture) -> None:
    osrm.hang = True
    points = [PEOPLES_SQUARE, THE_BUND]

    with caplog.at_level(logging.WARNING, logger="routing.matrix"):
        matrices = OsrmTable(osrm.url, timeout_s=0.2).matrices(points)

    assert matrices.source.startswith("great-circle driving (OSRM unavailable: no answer from")
    assert "within 0.2 s" in matrices.source
    fallback = GreatCircle(TravelMode.DRIVING).matrices(points)
    assert (matrices.durations_s == fallback.durations_s).all()
    assert (matrices.distances_m == fallback.distances_m).all()
    assert "OSRM" in caplog.text


def json_body(payload: object) -> bytes:
    return json.dumps(payload).encode()


BAD_ANSWERS: dict[str, tuple[Callable[[dict[str, object]], tuple[int, bytes]], str]] = {
    "http 500": (lambda payload: (500, b"Internal Server Error"), "HTTP 500"),
    "http 400 with OSRM's reason": (
        lambda payload: (400, json_body({"code": "TooBig", "message": "Too many table coordinates"})),
        "HTTP 400 from http://127.0.0.1:",
    ),
    "malformed json": (lambda payload: (200, b'{"code": "Ok", "durations": [[0, '), "other than JSON"),
    "json but not an object": (lambda payload: (200, b"[1, 2]"), "not an object"),
    "code is not Ok": (lambda payload: (200, json_body({"code": "NoTable", "message": "no"})), "'NoTable'"),
    "waypoints not a list of objects": (lambda payload: (200, json_body({**payload, "sources": [1, 2]})), "waypoints"),
    "missing distances": (
        lambda payload: (200, json_body({"code": "Ok", "durations": [[0, 1], [1, 0]]})),
        "'distances'",
    ),
    "wrong shape": (lambda payload: (200, json_body({**payload, "distances": [[0, 1]]})), "shape (1, 2)"),
    "negative time": (lambda payload: (200, json_body({**payload, "durations": [[0, -4], [1, 0]]})), "negative"),
}


@pytest.mark.parametrize(("answer", "reason"), BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_a_bad_answer_means_the_fallback_and_says_why(
    osrm: FakeOsrm, answer: Callable[[dict[str, object]], tuple[int, bytes]], reason: str
) -> None:
    osrm.answer = answer

    matrices = OsrmTable(osrm.url, fallback=GreatCircle(TravelMode.WALKING)).matrices([PEOPLES_SQUARE, THE_BUND])

    assert matrices.source.startswith("great-circle walking (OSRM unavailable: ")
    assert reason in matrices.source
    assert (
        matrices.distances_m == GreatCircle(TravelMode.WALKING).matrices([PEOPLES_SQUARE, THE_BUND]).distances_m
    ).all()


def test_a_server_that_is_not_there_means_the_fallback() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens there

    matrices = OsrmTable(f"http://127.0.0.1:{port}", timeout_s=1).matrices([PEOPLES_SQUARE, THE_BUND])

    assert f"(OSRM unavailable: cannot reach http://127.0.0.1:{port}" in matrices.source


def test_a_hair_below_zero_metres_is_zero_not_a_bad_answer(osrm: FakeOsrm) -> None:
    """OSRM answers -0.1 m between two points it snaps onto one segment (found by bench/roads): once, the whole
    matrix went to the fallback for it."""
    osrm.answer = lambda payload: (200, json_body({**payload, "distances": [[0, -0.1], [0.1, 0]]}))

    matrices = OsrmTable(osrm.url, fallback=None).matrices([PEOPLES_SQUARE, THE_BUND])

    assert matrices.source == "osrm" and matrices.distances_m.tolist() == [[0, 0], [0, 0]]


def test_without_a_fallback_a_failure_is_a_clear_error(osrm: FakeOsrm) -> None:
    osrm.answer = lambda payload: (200, json_body({**payload, "durations": [[0, None], [1, 0]]}))

    with pytest.raises(MatrixUnavailable, match="no route from point 0 to point 1"):
        OsrmTable(osrm.url, fallback=None).matrices([PEOPLES_SQUARE, THE_BUND])


def test_a_pair_without_a_route_one_way_is_priced_by_the_fallback_and_the_rest_stays_on_roads(osrm: FakeOsrm) -> None:
    points = city_points(4)

    def one_way_missing(payload: dict[str, object]) -> tuple[int, bytes]:
        for table in (payload["durations"], payload["distances"]):
            assert isinstance(table, list)
            table[0][1] = None
        return 200, json_body(payload)

    osrm.answer = one_way_missing
    matrices = OsrmTable(osrm.url, fallback=GreatCircle(TravelMode.WALKING)).matrices(points)

    assert matrices.source == "osrm (pairs without a road route, priced by great-circle walking: 1)"
    assert matrices.unreachable == {}
    durations, distances = expected_from_fake(points)
    walking = GreatCircle(TravelMode.WALKING).matrices(points)
    assert matrices.durations_s[0, 1] == walking.durations_s[0, 1]
    assert matrices.distances_m[0, 1] == walking.distances_m[0, 1]
    others = np.ones_like(durations, dtype=bool)
    others[0, 1] = False
    assert (matrices.durations_s[others] == durations[others]).all()
    assert (matrices.distances_m[others] == distances[others]).all()


def test_a_point_cut_off_from_the_others_roads_is_unreachable_and_can_be_barred(osrm: FakeOsrm) -> None:
    """An island of the road graph (a walled compound, a river bank without a bridge): OSRM has routes to and from
    every other point but that one, in blocks of requests as well as in one. Its travel is the fallback's straight
    line, which a caller bars where nobody may be sent along it."""
    points = city_points(7)
    osrm.island = frozenset({points[4]})
    kept = [0, 1, 2, 3, 5, 6]
    durations, distances = expected_from_fake(points)
    straight = GreatCircle(TravelMode.DRIVING).matrices(points)

    for per_request in (100, 4):
        matrices = OsrmTable(osrm.url, max_points_per_request=per_request).matrices(points)

        assert matrices.unreachable == {4: "no road route joins it to the other points (cut off from their roads)"}
        assert matrices.source == "osrm (points off the road network, priced by great-circle driving: 1)"
        assert (matrices.durations_s[4] == straight.durations_s[4]).all()
        assert (matrices.distances_m[:, 4] == straight.distances_m[:, 4]).all()
        assert (matrices.durations_s[np.ix_(kept, kept)] == durations[np.ix_(kept, kept)]).all()
        assert (matrices.distances_m[np.ix_(kept, kept)] == distances[np.ix_(kept, kept)]).all()

    barred = matrices.barring([4])
    assert (barred.durations_s[4, kept] == UNREACHABLE_S).all() and (barred.durations_s[kept, 4] == UNREACHABLE_S).all()
    assert (barred.distances_m[4, kept] == UNREACHABLE_M).all() and barred.durations_s[4, 4] == 0
    assert (barred.durations_s[np.ix_(kept, kept)] == matrices.durations_s[np.ix_(kept, kept)]).all()
    assert barred.source == matrices.source and barred.unreachable == matrices.unreachable
    with pytest.raises(MatrixUnavailable, match="osrm cannot reach point 4: no road route joins it"):
        OsrmTable(osrm.url, fallback=None).matrices(points)


def test_a_point_far_from_any_road_is_unreachable_though_osrm_routes_from_the_road_it_snapped_to(
    osrm: FakeOsrm,
) -> None:
    points = city_points(3)
    osrm.snapped_m = {points[1]: 812.4, points[2]: 120.0}

    matrices = OsrmTable(osrm.url, max_snap_m=500).matrices(points)

    assert matrices.unreachable == {1: "no road within 500 m (the nearest is 812 m away)"}
    straight = GreatCircle(TravelMode.DRIVING).matrices(points)
    assert (matrices.durations_s[1] == straight.durations_s[1]).all()  # not from the road it was moved to
    assert matrices.durations_s[0, 2] == expected_from_fake(points)[0][0, 2]  # 120 m from its road is near enough


def test_a_lone_point_far_from_any_road_is_unreachable_with_no_travel_to_price(osrm: FakeOsrm) -> None:
    [point] = city_points(1)
    osrm.snapped_m = {point: 812.4}

    for fallback in (GreatCircle(TravelMode.DRIVING), None):
        matrices = OsrmTable(osrm.url, fallback=fallback).matrices([point])

        assert matrices.unreachable == {0: "no road within 500 m (the nearest is 812 m away)"}
        assert matrices.source == "osrm" and matrices.durations_s.tolist() == [[0]]


def test_without_a_fallback_a_timeout_is_a_clear_error(osrm: FakeOsrm) -> None:
    osrm.hang = True

    with pytest.raises(MatrixUnavailable, match=r"no answer from .* within 0.2 s"):
        OsrmTable(osrm.url, timeout_s=0.2, fallback=None).matrices([PEOPLES_SQUARE, THE_BUND])


def test_no_points_need_no_request(osrm: FakeOsrm) -> None:
    matrices = OsrmTable(osrm.url).matrices([])

    assert matrices.durations_s.shape == (0, 0)
    assert osrm.requests == []


def test_bad_points_are_refused_before_asking_the_server(osrm: FakeOsrm) -> None:
    with pytest.raises(ValueError):
        OsrmTable(osrm.url).matrices([(31.2, 200.0)])

    assert osrm.requests == []


@pytest.mark.parametrize(
    "arguments",
    [
        {"base_url": "127.0.0.1:5000"},
        {"base_url": "http://osrm", "profile": "driving/../x"},
        {"base_url": "http://osrm", "timeout_s": 0},
        {"base_url": "http://osrm", "max_points_per_request": 1},
        {"base_url": "http://osrm", "max_snap_m": 0},
        {"base_url": "http://osrm", "max_snap_m": math.nan},
    ],
)
def test_osrm_settings_are_checked(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        OsrmTable(**arguments)  # type: ignore[arg-type]


def test_the_servers_route_is_drawn_leg_by_leg_and_a_leg_without_one_is_straight(osrm: FakeOsrm) -> None:
    a, b, c = city_points(3)
    osrm.island = frozenset({c})

    line = OsrmTable(osrm.url).path([a, b, c])

    # a to b along the road (its corner), b to c straight: no road joins them
    assert line == [a, a, (a[0], b[1]), b, b, c]
    assert [path.split("?")[0] for path in osrm.requests] == [
        f"/route/v1/driving/{a[1]:.6f},{a[0]:.6f};{b[1]:.6f},{b[0]:.6f}",
        f"/route/v1/driving/{b[1]:.6f},{b[0]:.6f};{c[1]:.6f},{c[0]:.6f}",
    ]


def test_a_leg_to_a_point_far_from_the_roads_is_straight(osrm: FakeOsrm) -> None:
    a, b = city_points(2)
    osrm.snapped_m = {b: 4_000.0}

    assert OsrmTable(osrm.url, max_snap_m=500).path([a, b]) == [a, b]


@pytest.mark.parametrize(
    "answer",
    [lambda _: (500, b"{}"), lambda _: (200, b'{"code": "Ok", "routes": [], "waypoints": []}')],
    ids=["server error", "no line"],
)
def test_a_server_that_cannot_draw_gives_straight_lines_and_is_asked_once(
    osrm: FakeOsrm, answer: Callable[[object], tuple[int, bytes]], caplog: pytest.LogCaptureFixture
) -> None:
    points = city_points(4)
    osrm.route = answer  # type: ignore[method-assign]

    with caplog.at_level(logging.WARNING):
        line = OsrmTable(osrm.url).path(points)

    assert line == points
    assert len(osrm.requests) == 1  # not once more per leg
    assert "cannot draw routes, drawing straight lines" in caplog.text
