"""The geocoders against loopback HTTP servers that answer as AMap and Nominatim document, and their rate limiter."""

import json
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import geocoordinates_ffi
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.addresses.geocoders import (
    RATE_MARGIN,
    AMapGeocoder,
    Candidate,
    GeocoderError,
    GeocoderQuotaExceeded,
    GeocoderRefused,
    GeocoderUnavailable,
    NominatimGeocoder,
    RateLimiter,
    SharedRateLimiter,
    configured_geocoders,
    gcj02_to_wgs84,
    normalise,
)
from api.config import GeocodingSettings
from api.rules.grades import GeocodeOutcome, Precision

# (WGS-84 lat, lon, GCJ-02 lat, lon): Shanghai, Shenzhen, Beijing, the reference pairs of eviltransform's tests
REFERENCE_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]


@dataclass
class Reply:
    body: Any
    status: int = 200
    delay_s: float = 0.0


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case


class LoopbackProvider:
    """An HTTP server on 127.0.0.1 that answers each GET with the next of its replies (the last one repeats) and
    records what it received."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def take(self, received: Received) -> Reply:
        with self._lock:
            self.received.append(received)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def serve(self) -> None:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(provider: LoopbackProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = provider.take(Received(url.path, dict(parse_qsl(url.query)), headers))
            time.sleep(reply.delay_s)
            payload = json.dumps(reply.body, ensure_ascii=False).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting, as in the timeout test

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def provider() -> Iterator[LoopbackProvider]:
    server = LoopbackProvider()
    server.serve()
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> list[float]:
    """The retries' sleeps, recorded instead of slept."""
    return []


def fast_limiter() -> RateLimiter:
    return RateLimiter(1000, burst=100)


@pytest.fixture
def amap(provider: LoopbackProvider, sleeps: list[float]) -> Iterator[AMapGeocoder]:
    with AMapGeocoder(
        "test-key", base_url=provider.url, timeout_s=2, limiter=fast_limiter(), retries=2, sleep=sleeps.append
    ) as geocoder:
        yield geocoder


@pytest.fixture
def nominatim(provider: LoopbackProvider, sleeps: list[float]) -> Iterator[NominatimGeocoder]:
    with NominatimGeocoder(
        base_url=provider.url,
        user_agent="fieldvisit-tests/1.0",
        email="ops@example.com",
        timeout_s=2,
        limiter=fast_limiter(),
        retries=2,
        sleep=sleeps.append,
    ) as geocoder:
        yield geocoder


def amap_geocode(level: str, location: str | list[str] = "116.483038,39.990633") -> dict[str, Any]:
    """One of AMap's geocodes[], as its documentation shows it (empty fields are [])."""
    return {
        "formatted_address": "北京市朝阳区阜通东大街6号",
        "country": "中国",
        "province": "北京市",
        "citycode": "010",
        "city": "北京市",
        "district": "朝阳区",
        "township": [],
        "neighborhood": {"name": [], "type": []},
        "building": {"name": [], "type": []},
        "adcode": "110105",
        "street": "阜通东大街",
        "number": "6号",
        "location": location,
        "level": level,
    }


def amap_ok(*geocodes: dict[str, Any]) -> Reply:
    return Reply({"status": "1", "info": "OK", "infocode": "10000", "count": str(len(geocodes)), "geocodes": geocodes})


def amap_failure(info: str, infocode: str) -> Reply:
    return Reply({"status": "0", "info": info, "infocode": infocode})


def nominatim_place(addresstype: str | None, *, place_rank: int = 30, type_: str = "yes") -> dict[str, Any]:
    """One place of Nominatim's jsonv2 answer; `addresstype` None: an older server that does not send it."""
    place: dict[str, Any] = {
        "place_id": 123456,
        "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
        "osm_type": "way",
        "osm_id": 987654,
        "lat": "52.5170365",
        "lon": "13.3888599",
        "category": "building",
        "type": type_,
        "place_rank": place_rank,
        "importance": 0.42,
        "name": "",
        "display_name": "10, Unter den Linden, Mitte, Berlin, 10117, Deutschland",
        "address": {"house_number": "10", "road": "Unter den Linden", "city": "Berlin", "country_code": "de"},
        "boundingbox": ["52.5169", "52.5171", "13.3887", "13.3890"],
    }
    if addresstype is not None:
        place["addresstype"] = addresstype
    return place


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance, exact enough over metres."""
    mean_lat = math.radians((lat1 + lat2) / 2)
    return 6_371_008.8 * math.hypot(math.radians(lon2 - lon1) * math.cos(mean_lat), math.radians(lat2 - lat1))


# AMap


@pytest.mark.parametrize(
    ("level", "precision"),
    [
        ("门牌号", Precision.DOOR),
        ("兴趣点", Precision.BUILDING),
        ("道路", Precision.ROAD),
        ("区县", Precision.DISTRICT),
        ("未知", Precision.UNKNOWN),
        ("一个新词", Precision.UNKNOWN),
    ],
)
def test_amap_maps_its_level_to_a_precision(
    amap: AMapGeocoder, provider: LoopbackProvider, level: str, precision: Precision
) -> None:
    provider.answer(amap_ok(amap_geocode(level)))

    [candidate] = amap.geocode("北京市朝阳区阜通东大街6号")

    assert candidate.precision is precision
    assert candidate.level == level
    assert candidate.provider == "amap"
    assert candidate.formatted == "北京市朝阳区阜通东大街6号"


def test_amap_sends_key_address_and_city(amap: AMapGeocoder, provider: LoopbackProvider) -> None:
    provider.answer(amap_ok(amap_geocode("门牌号")))

    amap.geocode("朝阳区阜通东大街6号", city="北京")

    [received] = provider.received
    assert received.path == "/v3/geocode/geo"
    assert received.query == {"key": "test-key", "address": "朝阳区阜通东大街6号", "city": "北京", "output": "JSON"}


def test_amap_without_a_city_searches_the_whole_country(amap: AMapGeocoder, provider: LoopbackProvider) -> None:
    provider.answer(amap_ok(amap_geocode("门牌号")))

    amap.geocode("北京市朝阳区阜通东大街6号")

    assert "city" not in provider.received[0].query


def test_amap_points_are_converted_from_gcj02_to_wgs84(amap: AMapGeocoder, provider: LoopbackProvider) -> None:
    wgs_lat, wgs_lon, gcj_lat, gcj_lon = REFERENCE_PAIRS[2]
    provider.answer(amap_ok(amap_geocode("兴趣点", location=f"{gcj_lon},{gcj_lat}")))

    [candidate] = amap.geocode("北京市西城区")

    assert distance_m(candidate.lat, candidate.lon, wgs_lat, wgs_lon) < 0.5
    assert distance_m(candidate.lat, candidate.lon, gcj_lat, gcj_lon) > 100  # the offset is hundreds of metres


def test_amap_keeps_its_order_and_skips_a_geocode_without_location(
    amap: AMapGeocoder, provider: LoopbackProvider
) -> None:
    provider.answer(amap_ok(amap_geocode("门牌号"), amap_geocode("未知", location=[]), amap_geocode("道路")))

    candidates = amap.geocode("阜通东大街")

    assert [candidate.level for candidate in candidates] == ["门牌号", "道路"]


def test_amap_finding_nothing_is_an_empty_list(amap: AMapGeocoder, provider: LoopbackProvider) -> None:
    provider.answer(Reply({"status": "1", "info": "OK", "infocode": "10000", "count": "0", "geocodes": []}))

    assert amap.geocode("火星市不存在路1号") == []


@pytest.mark.parametrize(
    ("info", "infocode"), [("DAILY_QUERY_OVER_LIMIT", "10003"), ("USER_DAILY_QUERY_OVER_LIMIT", "10044")]
)
def test_amap_over_its_quota_is_quota_exceeded_and_not_retried(
    amap: AMapGeocoder, provider: LoopbackProvider, sleeps: list[float], info: str, infocode: str
) -> None:
    provider.answer(amap_failure(info, infocode))

    with pytest.raises(GeocoderQuotaExceeded) as raised:
        amap.geocode("北京市朝阳区阜通东大街6号")

    assert raised.value.provider == "amap"
    assert infocode in str(raised.value)
    assert len(provider.received) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    ("info", "infocode"),
    [("CUQPS_HAS_EXCEEDED_THE_LIMIT", "10021"), ("CKQPS_HAS_EXCEEDED_THE_LIMIT", "10020"), ("CQPS_EXCEEDED", "10019")],
)
def test_amap_refusing_a_query_a_second_too_many_is_asked_again_after_a_pause(
    amap: AMapGeocoder, provider: LoopbackProvider, sleeps: list[float], info: str, infocode: str
) -> None:
    """Issue 31: at exactly AMap's 3 a second, 1 query in 88 was refused and its address left unplaced."""
    provider.answer(amap_failure(info, infocode), amap_ok(amap_geocode("门牌号")))

    [candidate] = amap.geocode("北京市朝阳区阜通东大街6号")

    assert candidate.precision is Precision.DOOR
    assert len(provider.received) == 2 and len(sleeps) == 1 and sleeps[0] > 0


def test_amap_bad_key_is_refused_and_not_retried(amap: AMapGeocoder, provider: LoopbackProvider) -> None:
    provider.answer(amap_failure("INVALID_USER_KEY", "10001"))

    with pytest.raises(GeocoderRefused):
        amap.geocode("北京市朝阳区阜通东大街6号")

    assert len(provider.received) == 1


def test_amap_bad_parameters_are_a_plain_error(amap: AMapGeocoder, provider: LoopbackProvider) -> None:
    provider.answer(amap_failure("INVALID_PARAMS", "20000"))

    with pytest.raises(GeocoderError) as raised:
        amap.geocode("")

    assert type(raised.value) is GeocoderError
    assert len(provider.received) == 1


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        (amap_failure("INVALID_USER_KEY", "10001"), GeocodeOutcome.KEY_REFUSED),
        (amap_failure("USERKEY_PLAT_NOMATCH", "10009"), GeocodeOutcome.KEY_REFUSED),
        (amap_failure("USER_KEY_RECYCLED", "10013"), GeocodeOutcome.KEY_REFUSED),
        (amap_failure("DAILY_QUERY_OVER_LIMIT", "10003"), GeocodeOutcome.QUOTA_EXHAUSTED),
        (amap_failure("QUOTA_PLAN_RUN_OUT", "40000"), GeocodeOutcome.QUOTA_EXHAUSTED),
        (amap_failure("ACCESS_TOO_FREQUENT", "10004"), GeocodeOutcome.RATE_LIMITED),
        (amap_failure("SERVER_IS_BUSY", "10016"), GeocodeOutcome.OUTAGE),
        (Reply({"message": "bad gateway"}, status=502), GeocodeOutcome.OUTAGE),
        (amap_failure("INVALID_PARAMS", "20000"), GeocodeOutcome.PROVIDER_ERROR),
    ],
)
def test_amap_failures_say_why_in_a_machine_code_and_the_providers_words(
    amap: AMapGeocoder, provider: LoopbackProvider, reply: Reply, outcome: GeocodeOutcome
) -> None:
    """Issue 31: an outage, a refused key and a spent quota all read "failed"."""
    provider.answer(reply)

    with pytest.raises(GeocoderError) as raised:
        amap.geocode("北京市朝阳区阜通东大街6号")

    assert raised.value.outcome is outcome
    assert raised.value.detail in str(raised.value) and raised.value.detail


def test_amap_engine_failure_is_retried(amap: AMapGeocoder, provider: LoopbackProvider) -> None:
    provider.answer(amap_failure("ENGINE_RESPONSE_DATA_ERROR", "30001"), amap_ok(amap_geocode("门牌号")))

    assert len(amap.geocode("北京市朝阳区阜通东大街6号")) == 1
    assert len(provider.received) == 2


def test_amap_5xx_then_success_is_retried(amap: AMapGeocoder, provider: LoopbackProvider, sleeps: list[float]) -> None:
    provider.answer(Reply({"message": "busy"}, status=503), amap_ok(amap_geocode("门牌号")))

    [candidate] = amap.geocode("北京市朝阳区阜通东大街6号")

    assert candidate.precision is Precision.DOOR
    assert len(provider.received) == 2
    assert len(sleeps) == 1 and sleeps[0] > 0


def test_amap_5xx_every_time_is_unavailable_after_the_retries(
    amap: AMapGeocoder, provider: LoopbackProvider, sleeps: list[float]
) -> None:
    provider.answer(Reply({"message": "bad gateway"}, status=502))

    with pytest.raises(GeocoderUnavailable) as raised:
        amap.geocode("北京市朝阳区阜通东大街6号")

    assert raised.value.provider == "amap"
    assert len(provider.received) == 3  # retries=2: three attempts
    assert len(sleeps) == 2
    assert all(later > 0 for later in sleeps)


def test_amap_timeout_is_unavailable(provider: LoopbackProvider, sleeps: list[float]) -> None:
    provider.answer(Reply(amap_ok(amap_geocode("门牌号")).body, delay_s=0.6))

    with (
        AMapGeocoder(
            "test-key", base_url=provider.url, timeout_s=0.2, limiter=fast_limiter(), retries=1, sleep=sleeps.append
        ) as geocoder,
        pytest.raises(GeocoderUnavailable),
    ):
        geocoder.geocode("北京市朝阳区阜通东大街6号")

    assert len(provider.received) == 2


def test_no_connection_is_unavailable_after_the_retries(sleeps: list[float]) -> None:
    with socket.socket() as unused:  # bound, then closed: nothing listens on its port
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"

    with (
        AMapGeocoder(
            "k", base_url=url, timeout_s=1, limiter=fast_limiter(), retries=2, sleep=sleeps.append
        ) as geocoder,
        pytest.raises(GeocoderUnavailable),
    ):
        geocoder.geocode("北京市")

    assert len(sleeps) == 2


# Nominatim


@pytest.mark.parametrize(
    ("addresstype", "precision"),
    [
        ("house", Precision.DOOR),
        ("building", Precision.BUILDING),
        ("road", Precision.ROAD),
        ("suburb", Precision.NEIGHBOURHOOD),
        ("city", Precision.CITY),
    ],
)
def test_nominatim_maps_its_addresstype_to_a_precision(
    nominatim: NominatimGeocoder, provider: LoopbackProvider, addresstype: str, precision: Precision
) -> None:
    provider.answer(Reply([nominatim_place(addresstype)]))

    [candidate] = nominatim.geocode("Unter den Linden 10, Berlin")

    assert candidate == Candidate(
        lat=52.5170365,
        lon=13.3888599,  # WGS-84 already: not shifted
        precision=precision,
        provider="nominatim",
        level=addresstype,
        formatted="10, Unter den Linden, Mitte, Berlin, 10117, Deutschland",
    )


@pytest.mark.parametrize(
    ("place_rank", "type_", "precision"),
    [
        (30, "house", Precision.DOOR),
        (30, "yes", Precision.BUILDING),
        (26, "primary", Precision.ROAD),
        (20, "suburb", Precision.NEIGHBOURHOOD),
        (14, "city_district", Precision.DISTRICT),
        (8, "state", Precision.CITY),
    ],
)
def test_nominatim_without_addresstype_goes_by_place_rank(
    nominatim: NominatimGeocoder, provider: LoopbackProvider, place_rank: int, type_: str, precision: Precision
) -> None:
    provider.answer(Reply([nominatim_place(None, place_rank=place_rank, type_=type_)]))

    [candidate] = nominatim.geocode("somewhere")

    assert candidate.precision is precision


def test_nominatim_sends_query_format_and_user_agent(nominatim: NominatimGeocoder, provider: LoopbackProvider) -> None:
    provider.answer(Reply([nominatim_place("building")]))

    nominatim.geocode("Unter den Linden 10", city="Berlin")

    [received] = provider.received
    assert received.path == "/search"
    assert received.query == {
        "q": "Unter den Linden 10, Berlin",
        "format": "jsonv2",
        "addressdetails": "1",
        "limit": "5",
        "email": "ops@example.com",
    }
    assert received.headers["user-agent"] == "fieldvisit-tests/1.0"


def test_nominatim_finding_nothing_is_an_empty_list(nominatim: NominatimGeocoder, provider: LoopbackProvider) -> None:
    provider.answer(Reply([]))

    assert nominatim.geocode("nowhere at all") == []


def test_nominatim_429_is_quota_exceeded_and_not_retried(
    nominatim: NominatimGeocoder, provider: LoopbackProvider, sleeps: list[float]
) -> None:
    provider.answer(Reply({"error": "Too Many Requests"}, status=429))

    with pytest.raises(GeocoderQuotaExceeded) as raised:
        nominatim.geocode("Unter den Linden 10, Berlin")

    assert raised.value.provider == "nominatim"
    assert len(provider.received) == 1
    assert sleeps == []


def test_nominatim_403_is_refused(nominatim: NominatimGeocoder, provider: LoopbackProvider) -> None:
    provider.answer(Reply({"error": "Access blocked"}, status=403))

    with pytest.raises(GeocoderRefused):
        nominatim.geocode("Unter den Linden 10, Berlin")


def test_nominatim_5xx_then_success_is_retried(nominatim: NominatimGeocoder, provider: LoopbackProvider) -> None:
    provider.answer(Reply({}, status=500), Reply({}, status=503), Reply([nominatim_place("road")]))

    [candidate] = nominatim.geocode("Unter den Linden, Berlin")

    assert candidate.precision is Precision.ROAD
    assert len(provider.received) == 3


# GCJ-02


@pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), REFERENCE_PAIRS)
def test_gcj02_reference_pairs_convert_within_half_a_metre(
    wgs_lat: float, wgs_lon: float, gcj_lat: float, gcj_lon: float
) -> None:
    lat, lon = gcj02_to_wgs84(gcj_lat, gcj_lon)

    assert distance_m(lat, lon, wgs_lat, wgs_lon) < 0.5


def test_gcj02_round_trips_within_half_a_metre_across_china() -> None:
    points = [(lat + 0.37, lon + 0.61) for lat in range(20, 50, 3) for lon in range(76, 134, 4)]
    for wgs_lat, wgs_lon in points:
        shifted = geocoordinates_ffi.wgs84_to_gcj02(geocoordinates_ffi.Wgs84(lat=wgs_lat, lon=wgs_lon))

        lat, lon = gcj02_to_wgs84(shifted.lat, shifted.lon)

        assert distance_m(lat, lon, wgs_lat, wgs_lon) < 0.5


def test_points_outside_china_are_not_shifted() -> None:
    assert gcj02_to_wgs84(48.8566, 2.3522) == (48.8566, 2.3522)


# rate limiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize(("calls", "per_second", "burst"), [(10, 4.0, 1), (10, 4.0, 3), (3, 1.0, 5)])
def test_rate_limiter_takes_calls_beyond_the_burst_over_the_rate(calls: int, per_second: float, burst: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_second, burst, clock=clock, sleep=clock.sleep)

    for _ in range(calls):
        limiter.acquire()

    assert clock.now - 100.0 == pytest.approx(max(0, calls - burst) / per_second)


def test_rate_limiter_refills_while_idle() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, burst=2, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.acquire()
    clock.now += 10  # idle: the bucket fills up to its burst, not more

    for _ in range(3):
        limiter.acquire()

    assert clock.now - 110.0 == pytest.approx(0.5)


@pytest.mark.parametrize(("per_second", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_rate_limiter_refuses_nonsense(per_second: float, burst: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(per_second, burst)


def test_ten_calls_from_threads_at_twenty_a_second_take_at_least_0_4_s(
    provider: LoopbackProvider, sleeps: list[float]
) -> None:
    provider.answer(Reply([nominatim_place("building")]))
    with NominatimGeocoder(
        base_url=provider.url, user_agent="t", limiter=RateLimiter(20), retries=0, sleep=sleeps.append
    ) as geocoder:
        geocode: Callable[[str], list[Candidate]] = geocoder.geocode
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(geocode, [f"street {n}" for n in range(10)]))
        elapsed_s = time.monotonic() - started

    assert elapsed_s >= 0.4  # (10 - burst 1) / 20 = 0.45 s
    assert all(len(result) == 1 for result in results)
    assert len(provider.received) == 10


# normalise and settings


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("  北京市　朝阳区  阜通东大街６号。 ", "北京市 朝阳区 阜通东大街6号"),
        ("北京市朝阳区阜通东大街6号，，", "北京市朝阳区阜通东大街6号"),
        ("Unter den Linden 10,\tBerlin. ", "Unter den Linden 10, Berlin"),
        ("望京西园四区(5号楼)", "望京西园四区(5号楼)"),
    ],
)
def test_normalise_is_the_cache_key(text: str, key: str) -> None:
    assert normalise(text) == key


def test_no_geocoder_unless_configured(app: FastAPI) -> None:
    assert configured_geocoders(GeocodingSettings(), app.state.sessionmaker) == []
    assert configured_geocoders(GeocodingSettings(amap_key=SecretStr("")), app.state.sessionmaker) == []


def test_configured_geocoders_are_amap_first_then_nominatim(app: FastAPI) -> None:
    settings = GeocodingSettings(amap_key=SecretStr("k"), nominatim_base_url="http://127.0.0.1:1")

    geocoders = configured_geocoders(settings, app.state.sessionmaker)

    assert [geocoder.name for geocoder in geocoders] == ["amap", "nominatim"]
    for geocoder in geocoders:
        geocoder.close()


def test_only_nominatim_when_only_its_server_is_set(app: FastAPI) -> None:
    [geocoder] = configured_geocoders(
        GeocodingSettings(nominatim_base_url="http://127.0.0.1:1"), app.state.sessionmaker
    )

    with geocoder:
        assert isinstance(geocoder, NominatimGeocoder)


def test_two_processes_asking_one_provider_keep_its_rate_between_them(app: FastAPI) -> None:
    """Each server process had a bucket of its own: two at 5 queries a second asked at 10 together."""
    limiters = [SharedRateLimiter(app.state.sessionmaker, "amap", 5) for _ in range(2)]  # one per process
    began = time.monotonic()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: limiters[n % 2].acquire(), range(10)))

    # nine gaps of 0.2 s, whichever process asked, and the margin below the provider's own rate
    assert time.monotonic() - began >= (10 - 1) / (5 * RATE_MARGIN) - 0.05
