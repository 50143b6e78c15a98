"""Geocoders: an address's text to candidate WGS-84 points, from AMap (高德) or a Nominatim server, each behind one
rate limiter shared by every thread that uses it, and retried on failures that may pass (5xx, timeouts)."""

import hashlib
import threading
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any, ClassVar, Protocol, Self

import geocoordinates_ffi
import httpx2
import tenacity
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.config import GeocodingSettings
from api.db import Upsert, upsert, utcnow, writing
from api.models.addresses import GeocoderPace
from api.rules.grades import GeocodeOutcome, Precision

# between attempts: 0.5 s, doubled at each retry up to 8 s, plus up to 0.5 s of jitter
_BACKOFF = tenacity.wait_exponential(multiplier=0.5, max=8) + tenacity.wait_random(0, 0.5)
_TRAILING_PUNCTUATION = ".,;:!?。、 "


@dataclass(frozen=True, slots=True)
class Candidate:
    lat: float  # WGS-84
    lon: float
    precision: Precision
    provider: str
    level: str  # the provider's own word: AMap `level`, Nominatim `addresstype`
    formatted: str


class GeocoderError(Exception):
    """A provider gave no answer; `provider` names it, `outcome` says why in a code, `detail` in its words."""

    outcome: ClassVar[GeocodeOutcome] = GeocodeOutcome.PROVIDER_ERROR

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"{provider}: {detail}")
        self.provider, self.detail = provider, detail


class GeocoderUnavailable(GeocoderError):
    """Server errors, timeouts or connection failures, still there after the retries."""

    outcome = GeocodeOutcome.OUTAGE


class GeocoderThrottled(GeocoderUnavailable):
    """The provider refused a query for going over its queries a second: asked again after a pause, like an outage."""

    outcome = GeocodeOutcome.RATE_LIMITED


class GeocoderQuotaExceeded(GeocoderError):
    """A daily or plan limit of the provider: wait, do not retry now."""

    outcome = GeocodeOutcome.QUOTA_EXHAUSTED


class GeocoderRefused(GeocoderError):
    """The provider will not serve this key or client (bad, expired or unauthorised key)."""

    outcome = GeocodeOutcome.KEY_REFUSED


def normalise(text: str) -> str:
    """The cache key of an address's text: NFKC, whitespace collapsed, no trailing sentence punctuation."""
    collapsed = " ".join(unicodedata.normalize("NFKC", text).split())
    return collapsed.rstrip(_TRAILING_PUNCTUATION)


def query_key(text: str, city: str | None) -> str:
    """The key of a text (with its city hint) in the answers' cache."""
    return hashlib.sha256(f"{normalise(text)}|{normalise(city or '')}".encode()).hexdigest()


class Limiter(Protocol):
    """Paces the queries to a provider."""

    def acquire(self) -> None:
        """Block until the next query may go."""


class RateLimiter:
    """A token bucket: `per_second` tokens a second, at most `burst` saved up. Thread-safe; each caller reserves
    its slot under the lock and sleeps outside it, so callers are served in the order they came."""

    def __init__(
        self,
        per_second: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, not {per_second}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self._per_second, self._burst = per_second, burst
        self._clock, self._sleep = clock, sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until a token is there, and take it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._per_second) - 1
            self._updated = now
            wait_s = -self._tokens / self._per_second
        if wait_s > 0:
            self._sleep(wait_s)


RATE_MARGIN = 0.9  # a provider counts its second its own way: at exactly its rate, a query now and then is refused


class SharedRateLimiter:
    """At most `per_second` queries a second (less `RATE_MARGIN`) for every process of every machine that asks a
    provider with one key: each caller books the next free slot in the database (`GeocoderPace`, in a short
    transaction that takes turns) and sleeps until it, outside it."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        provider: str,
        per_second: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, not {per_second}")
        self._sessions, self._provider, self._sleep = sessions, provider, sleep
        self._gap = timedelta(seconds=1 / (per_second * RATE_MARGIN))

    def acquire(self) -> None:
        """Block until this caller's slot, and take it."""
        with self._sessions() as session:
            writing(session)  # SQLite: the write lock from the start; PostgreSQL: the row's lock below
            session.execute(_pace_row(session, self._provider))
            booked = session.scalar(
                select(GeocoderPace.next_at).where(GeocoderPace.provider == self._provider).with_for_update()
            )
            slot = max(utcnow(), booked or utcnow())
            session.execute(
                update(GeocoderPace).where(GeocoderPace.provider == self._provider).values(next_at=slot + self._gap)
            )
            session.commit()
        wait_s = (slot - utcnow()).total_seconds()
        if wait_s > 0:
            self._sleep(wait_s)


def _pace_row(session: Session, provider: str) -> Upsert:
    """An INSERT of the provider's pace row that does nothing when it is there (first use, by any process)."""
    return upsert(session, GeocoderPace).values(provider=provider, next_at=utcnow()).on_conflict_do_nothing()


class JsonService(ABC):
    """One HTTP client, one rate limiter and the retries of a provider's JSON GETs (`name` names the provider in
    its errors)."""

    name: str

    def __init__(
        self,
        client: httpx2.Client,
        *,
        limiter: Limiter,
        retries: int,
        sleep: Callable[[float], None],
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be at least 0, not {retries}")
        self._client, self._limiter, self._retries, self._sleep = client, limiter, retries, sleep

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _get_json(self, path: str, params: dict[str, str]) -> Any:
        """GET, retried with exponential backoff and jitter while the provider is unavailable."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self._retries + 1),
            wait=_BACKOFF,
            retry=tenacity.retry_if_exception_type(GeocoderUnavailable),
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(self._attempt, path, params)

    def _attempt(self, path: str, params: dict[str, str]) -> Any:
        self._limiter.acquire()
        try:
            response = self._client.get(path, params=params)
        except httpx2.TransportError as exc:  # timeouts included
            raise GeocoderUnavailable(self.name, type(exc).__name__) from exc
        self._check_status(response.status_code)
        try:
            body = response.json()
        except ValueError as exc:
            raise GeocoderError(self.name, "the answer is not JSON") from exc
        self._check_body(body)
        return body

    def _check_status(self, status: int) -> None:
        if status >= 500:
            raise GeocoderUnavailable(self.name, f"HTTP {status}")
        if status == 429:
            raise GeocoderQuotaExceeded(self.name, f"HTTP {status}")
        if status in (401, 403):
            raise GeocoderRefused(self.name, f"HTTP {status}")
        if status >= 300:
            raise GeocoderError(self.name, f"HTTP {status}")

    @abstractmethod
    def _check_body(self, body: Any) -> None:
        """Raise what an answer of HTTP 200 says went wrong (inside the retries, so such errors may be retried)."""


class Geocoder(ABC):
    """Turns an address's text into candidates, best first; an empty list when the provider found nothing."""

    name: str

    @abstractmethod
    def geocode(self, text: str, *, city: str | None = None) -> list[Candidate]: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


# AMap's `level` (its 2023 list adds 门址, 小巷, 住宅区, 公交地铁站点, and 楼层 and 房间 as reserved words)
_AMAP_PRECISION = {
    "门牌号": Precision.DOOR,
    "门址": Precision.DOOR,
    "楼层": Precision.DOOR,
    "房间": Precision.DOOR,
    "兴趣点": Precision.BUILDING,
    "单元号": Precision.BUILDING,
    "楼栋": Precision.BUILDING,
    "公交地铁站点": Precision.BUILDING,
    "道路": Precision.ROAD,
    "道路交叉路口": Precision.ROAD,
    "小巷": Precision.ROAD,
    "住宅区": Precision.ROAD,  # a compound, like AddressGrade.ROAD
    "乡镇": Precision.NEIGHBOURHOOD,
    "村庄": Precision.NEIGHBOURHOOD,
    "开发区": Precision.NEIGHBOURHOOD,
    "热点商圈": Precision.NEIGHBOURHOOD,
    "区县": Precision.DISTRICT,
    "国家": Precision.CITY,
    "省": Precision.CITY,
    "市": Precision.CITY,
}

# AMap's infocodes when status is "0" (Web 服务 错误码说明); 300xx: its engine failed, as a 5xx would; other codes
# (bad parameters...) are plain GeocoderErrors
_AMAP_ERRORS: dict[str, type[GeocoderError]] = {
    "10001": GeocoderRefused,  # INVALID_USER_KEY
    "10002": GeocoderRefused,  # SERVICE_NOT_AVAILABLE
    "10003": GeocoderQuotaExceeded,  # DAILY_QUERY_OVER_LIMIT
    "10004": GeocoderThrottled,  # ACCESS_TOO_FREQUENT
    "10005": GeocoderRefused,  # INVALID_USER_IP
    "10006": GeocoderRefused,  # INVALID_USER_DOMAIN
    "10007": GeocoderRefused,  # INVALID_USER_SIGNATURE
    "10008": GeocoderRefused,  # INVALID_USER_SCODE
    "10009": GeocoderRefused,  # USERKEY_PLAT_NOMATCH
    "10010": GeocoderQuotaExceeded,  # IP_QUERY_OVER_LIMIT
    "10011": GeocoderRefused,  # NOT_SUPPORT_HTTPS
    "10012": GeocoderRefused,  # INSUFFICIENT_PRIVILEGES
    "10013": GeocoderRefused,  # USER_KEY_RECYCLED
    "10014": GeocoderThrottled,  # QPS_HAS_EXCEEDED_THE_LIMIT
    "10015": GeocoderThrottled,  # GATEWAY_TIMEOUT: a single machine's QPS limit
    "10016": GeocoderUnavailable,  # SERVER_IS_BUSY
    "10017": GeocoderUnavailable,  # RESOURCE_UNAVAILABLE
    "10019": GeocoderThrottled,  # CQPS_HAS_EXCEEDED_THE_LIMIT: a service's QPS
    "10020": GeocoderThrottled,  # CKQPS_HAS_EXCEEDED_THE_LIMIT: a key's QPS
    "10021": GeocoderThrottled,  # CUQPS_HAS_EXCEEDED_THE_LIMIT: an account's QPS
    "10026": GeocoderRefused,  # INVALID_REQUEST: the account is blocked
    "10029": GeocoderQuotaExceeded,  # ABROAD_DAILY_QUERY_OVER_LIMIT
    "10041": GeocoderRefused,  # NO_EFFECTIVE_INTERFACE
    "10044": GeocoderQuotaExceeded,  # USER_DAILY_QUERY_OVER_LIMIT
    "10045": GeocoderQuotaExceeded,  # USER_ABROAD_DAILY_QUERY_OVER_LIMIT
    "40000": GeocoderQuotaExceeded,  # QUOTA_PLAN_RUN_OUT
    "40002": GeocoderRefused,  # SERVICE_EXPIRED
    "40003": GeocoderQuotaExceeded,  # ABROAD_QUOTA_PLAN_RUN_OUT
}


def _amap_error(infocode: str) -> type[GeocoderError]:
    if infocode in _AMAP_ERRORS:
        return _AMAP_ERRORS[infocode]
    return GeocoderUnavailable if infocode.startswith("300") else GeocoderError


def check_amap_answer(name: str, body: Any) -> None:
    """Raise what an AMap Web 服务 answer says went wrong (`status` "0" and its `infocode`)."""
    if not isinstance(body, dict):
        raise GeocoderError(name, "the answer is not a JSON object")
    if body.get("status") == "1":
        return
    infocode = str(body.get("infocode"))
    raise _amap_error(infocode)(name, f"{body.get('info')} (infocode {infocode})")


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """China's offset datum (GCJ-02, AMap's) to WGS-84, within 0.5 m; points outside China are not shifted."""
    point = geocoordinates_ffi.gcj02_to_wgs84_refined(geocoordinates_ffi.Gcj02(lat=lat, lon=lon))
    return point.lat, point.lon


class AMapService(JsonService):
    """One of AMap's Web 服务 for a key: its answers checked by their `status` and `infocode`."""

    name = "amap"

    def __init__(
        self,
        key: str,
        *,
        base_url: str = "https://restapi.amap.com",
        timeout_s: float = 5.0,
        limiter: Limiter | None = None,
        retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        client = httpx2.Client(base_url=base_url, timeout=timeout_s)
        limiter = limiter or RateLimiter(3)  # AMap's QPS for a personal developer
        super().__init__(client, limiter=limiter, retries=retries, sleep=sleep)
        self._key = key

    def _check_body(self, body: Any) -> None:
        check_amap_answer(self.name, body)


class AMapGeocoder(AMapService, Geocoder):
    """AMap's Web 服务 地理编码 (GET /v3/geocode/geo); its GCJ-02 points are returned as WGS-84."""

    def geocode(self, text: str, *, city: str | None = None) -> list[Candidate]:
        params = {"key": self._key, "address": text, "output": "JSON"}
        if city:
            params["city"] = city
        body = self._get_json("/v3/geocode/geo", params)
        return [candidate for item in body.get("geocodes") or [] if (candidate := self._candidate(item))]

    def _candidate(self, item: dict[str, Any]) -> Candidate | None:
        location = item.get("location")
        if not isinstance(location, str) or "," not in location:  # AMap sends [] for a missing field
            return None
        lon_text, lat_text = location.split(",", 1)
        lat, lon = gcj02_to_wgs84(float(lat_text), float(lon_text))
        level = item.get("level")
        level = level if isinstance(level, str) else ""
        formatted = item.get("formatted_address")
        return Candidate(
            lat=lat,
            lon=lon,
            precision=_AMAP_PRECISION.get(level, Precision.UNKNOWN),
            provider=self.name,
            level=level,
            formatted=formatted if isinstance(formatted, str) else "",
        )


_NOMINATIM_PRECISION = {
    "house": Precision.DOOR,
    "house_number": Precision.DOOR,
    "building": Precision.BUILDING,
    "amenity": Precision.BUILDING,
    "shop": Precision.BUILDING,
    "office": Precision.BUILDING,
    "tourism": Precision.BUILDING,
    "road": Precision.ROAD,
    "suburb": Precision.NEIGHBOURHOOD,
    "quarter": Precision.NEIGHBOURHOOD,
    "neighbourhood": Precision.NEIGHBOURHOOD,
    "village": Precision.NEIGHBOURHOOD,
    "hamlet": Precision.NEIGHBOURHOOD,
    "town": Precision.NEIGHBOURHOOD,
    "city_district": Precision.DISTRICT,
    "county": Precision.DISTRICT,
    "district": Precision.DISTRICT,
    "city": Precision.CITY,
    "state": Precision.CITY,
    "country": Precision.CITY,
}
_NOMINATIM_DOOR_TYPES = {"house", "house_number"}


def _nominatim_precision(addresstype: str, place_rank: int, type_: str) -> Precision:
    """From `addresstype`; when it is missing or not a word above, from the search rank of the place."""
    if addresstype in _NOMINATIM_PRECISION:
        return _NOMINATIM_PRECISION[addresstype]
    if place_rank >= 28:  # 28 house numbers, 30 buildings and points of interest
        return Precision.DOOR if type_ in _NOMINATIM_DOOR_TYPES else Precision.BUILDING
    if place_rank >= 26:
        return Precision.ROAD
    if place_rank >= 16:
        return Precision.NEIGHBOURHOOD
    if place_rank >= 12:
        return Precision.DISTRICT
    return Precision.CITY


class NominatimGeocoder(JsonService, Geocoder):
    """A Nominatim server's free-form search (GET /search, jsonv2). Its usage policy asks for a User-Agent that
    names the application and, for the public server, at most one request a second and no bulk geocoding."""

    name = "nominatim"

    def __init__(
        self,
        *,
        base_url: str,
        user_agent: str,
        email: str | None = None,
        timeout_s: float = 5.0,
        limiter: Limiter | None = None,
        retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        client = httpx2.Client(base_url=base_url, timeout=timeout_s, headers={"User-Agent": user_agent})
        limiter = limiter or RateLimiter(1)  # the public server's policy
        super().__init__(client, limiter=limiter, retries=retries, sleep=sleep)
        self._email = email

    def geocode(self, text: str, *, city: str | None = None) -> list[Candidate]:
        query = f"{text}, {city}" if city and city not in text else text
        params = {"q": query, "format": "jsonv2", "addressdetails": "1", "limit": "5"}
        if self._email:
            params["email"] = self._email
        return [self._candidate(item) for item in self._get_json("/search", params)]

    def _check_body(self, body: Any) -> None:
        if not isinstance(body, list):
            raise GeocoderError(self.name, "the answer is not a JSON list")

    def _candidate(self, item: dict[str, Any]) -> Candidate:
        addresstype = item.get("addresstype") or ""
        precision = _nominatim_precision(addresstype, int(item.get("place_rank") or 0), item.get("type") or "")
        return Candidate(
            lat=float(item["lat"]),
            lon=float(item["lon"]),
            precision=precision,
            provider=self.name,
            level=addresstype,
            formatted=item.get("display_name") or "",
        )


def configured_geocoders(settings: GeocodingSettings, sessions: Callable[[], Session]) -> list[Geocoder]:
    """The geocoders the settings turn on, in the order to ask them: AMap if it has a key, then Nominatim if it
    has a server; none otherwise. Their rates hold across every process using the database (`SharedRateLimiter`)."""
    geocoders: list[Geocoder] = []
    if settings.amap_key:  # an empty key is no key
        geocoders.append(
            AMapGeocoder(
                settings.amap_key.get_secret_value(),
                base_url=settings.amap_base_url,
                timeout_s=settings.timeout_s,
                limiter=SharedRateLimiter(sessions, "amap", settings.amap_per_second),
                retries=settings.retries,
            )
        )
    if settings.nominatim_base_url:
        geocoders.append(
            NominatimGeocoder(
                base_url=settings.nominatim_base_url,
                user_agent=settings.nominatim_user_agent,
                email=settings.nominatim_email,
                timeout_s=settings.timeout_s,
                limiter=SharedRateLimiter(sessions, "nominatim", settings.nominatim_per_second),
                retries=settings.retries,
            )
        )
    return geocoders
