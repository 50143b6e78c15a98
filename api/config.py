"""Settings: the only place that reads the environment (prefix ``FIELDVISIT_``, nested groups split by ``__``)."""

from datetime import timedelta
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.rules.evidence import PHOTO_FAR_M
from api.rules.field import FieldRules

DEFAULT_DATABASE_URL = "sqlite:///var/fieldvisit.db"


class AuthSettings(BaseModel):
    """Tokens: a short-lived JWT access token and a long-lived, rotated refresh token."""

    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key for access tokens; when unset, one is generated once and kept in var/jwt-secret.",
    )
    jwt_algorithm: str = "HS256"
    access_token_ttl_s: int = Field(default=15 * 60, gt=0)
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, gt=0)
    refresh_grace_s: int = Field(
        default=60, ge=0, description="A refresh token just rotated answers again with the same pair this long."
    )
    login_window_s: int = Field(default=15 * 60, gt=0, description="How far back failed logins are counted.")
    login_failures_per_address: int = Field(
        default=5, gt=0, description="Failed logins of one account from one address before it waits."
    )
    login_failures_per_client: int = Field(
        default=20, gt=0, description="Failed logins from one address, any accounts, before it waits."
    )
    login_failures_per_account: int = Field(
        default=10, gt=0, description="Failed logins of one account from addresses it has not logged in from."
    )
    login_known_address_days: int = Field(
        default=30, gt=0, description="An address the account logged in from this recently is known to it."
    )


class VisitSettings(BaseModel):
    """Rules of a visit at the door."""

    geofence_radius_m: int = Field(default=200, gt=0)
    checkin_max_gap_s: int = Field(default=600, gt=0)


class PlanningSettings(BaseModel):
    """Next-day planning: how long the solver may take, on how many processes, and how teams travel."""

    time_limit_s: int = Field(default=60, ge=1, le=3600, description="Solver time per planning run.")
    solver_workers: int = Field(default=2, ge=1, le=2, description="2: a portfolio of engines on two processes.")
    travel_mode: str = Field(
        default="driving",
        pattern="^(walking|cycling|transit|driving)$",
        description="How teams travel: speed and fixed time per trip; on roads, the profile (car, bicycle, foot).",
    )
    seed: int = 1
    warm_resolve: bool = Field(
        default=True,
        description="A re-solve starts from the plan of the run it re-solves and stops once the search has settled.",
    )
    resolve_time_limit_s: int = Field(
        default=8,
        ge=1,
        le=3600,
        description="Solver time of a re-solve that asks for none (at most time_limit_s): it starts from a plan.",
    )
    move_cost_m: int = Field(
        default=3_000,
        ge=0,
        le=1_000_000,
        description="In-day re-plans: what moving a not-started stop to another team costs, as metres of detour.",
    )
    queue_name: str = Field(default="planning", description="RQ queue of planning runs (with redis_url).")
    road_engine: Literal["auto", "embedded", "osrm", "great_circle"] = Field(
        default="auto",
        description="Travel times. embedded: OSRM in process on the branch's road data (`fieldvisit roads build`);"
        " osrm: an OSRM server's /table; great_circle: great circles x a detour factor at the travel mode's speed;"
        " auto: the branch's road data where built, else the server where osrm_url is set, else great circles."
        " A road engine that cannot answer falls back to great circles, and the run's figures say so.",
    )
    road_time_factor: float | None = Field(
        default=None,
        gt=0,
        le=10,
        description="Road engines' seconds x this (their profiles drive free-flow); default: the travel mode's"
        " (driving 1.6, others 1.0).",
    )
    osrm_url: str = Field(default="", pattern="^(https?://.+)?$", description="The OSRM server, e.g. http://osrm:5000.")
    osrm_profile: str = Field(
        default="driving", pattern="^[A-Za-z0-9_-]+$", description="The profile in OSRM's URLs (osrm-routed: any)."
    )
    osrm_timeout_s: float = Field(default=10, gt=0, le=300, description="Each connection and read to OSRM.")
    osrm_max_table_size: int = Field(
        default=100, ge=2, description="Points per /table request: the server's --max-table-size (OSRM's default)."
    )
    osrm_max_snap_m: float = Field(
        default=500,
        gt=0,
        le=50_000,
        description="An address farther than this from any road is unreachable: left out of plans as no_road.",
    )

    roads_dir: Path | None = Field(
        default=None, description="The branches' road data (`fieldvisit roads build`); default var_dir/roads."
    )

    @model_validator(mode="after")
    def _osrm_needs_a_server(self) -> Self:
        if self.road_engine == "osrm" and not self.osrm_url:
            raise ValueError("road_engine osrm needs osrm_url")
        if self.road_engine == "embedded" and self.travel_mode == "transit":
            raise ValueError("road_engine embedded has no roads for travel_mode transit (car, bicycle and foot only)")
        return self


class EvidenceSettings(BaseModel):
    """Where evidence bytes are stored and what is accepted. `backend`: `local` (files under `local_dir`, by default
    `var/evidence`) or `s3` (a bucket; phones upload straight to it with presigned URLs)."""

    backend: str = Field(default="local", pattern="^(local|s3)$")
    local_dir: Path | None = Field(default=None, description="Local backend's directory; default var_dir/evidence.")
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_region: str | None = None
    s3_endpoint_url: str | None = Field(default=None, description="An S3-compatible endpoint instead of AWS.")
    s3_retention_days: int | None = Field(
        default=None, gt=0, description="Object-lock retention set on every stored object (the bucket needs lock)."
    )
    s3_retention_mode: str = Field(default="COMPLIANCE", pattern="^(COMPLIANCE|GOVERNANCE)$")
    url_ttl_s: int = Field(default=900, ge=60, le=7 * 24 * 3600, description="Lifetime of presigned URLs.")
    multipart_threshold_bytes: int = Field(default=16 << 20, ge=5 << 20, description="Larger uploads: multipart.")
    part_size_bytes: int = Field(default=16 << 20, ge=5 << 20)
    max_recording_bytes: int = Field(default=1 << 30, gt=0)
    max_photo_bytes: int = Field(default=30 << 20, gt=0)
    max_document_bytes: int = Field(default=30 << 20, gt=0)
    max_photo_pixels: int = Field(default=60_000_000, gt=0, description="Bigger images are refused as bombs.")
    sweep_interval_s: float | None = Field(
        default=86400, gt=0, description="Local store: how often abandoned uploads are removed; unset: never."
    )
    sweep_idle_days: float = Field(default=7, ge=1, description="An upload nobody continued for this long is removed.")
    photo_radius_m: int = Field(
        default=PHOTO_FAR_M,
        gt=0,
        description="A photo's GPS farther from the address is flagged, and counts against the visit's presence.",
    )


class WebhookSettings(BaseModel):
    """Where webhooks may go: HTTPS URLs of public addresses, unless these say otherwise (e.g. for a receiver inside
    the agency's network)."""

    allow_http: bool = Field(default=False, description="Also plain http URLs.")
    allow_networks: list[IPvAnyNetwork] = Field(
        default_factory=list, description="Networks whose addresses are allowed although not public, e.g. 10.1.2.0/24."
    )


class GeocodingSettings(BaseModel):
    """Geocoders, none unless configured: AMap when it has a key, then a Nominatim server when one is named (the
    public one allows 1 request a second and no bulk use, so set it on purpose, e.g. to a self-hosted one)."""

    amap_key: SecretStr | None = Field(default=None, description="AMap Web 服务 key; unset: AMap is not used.")
    amap_base_url: str = "https://restapi.amap.com"
    amap_per_second: float = Field(
        default=3, gt=0, description="AMap's QPS for a personal developer: the key's, geocoding and driving alike."
    )
    amap_reprice_budget: int = Field(
        default=200,
        ge=1,
        le=100_000,
        description="Requests one re-pricing of a day's legs may make (`fieldvisit roads reprice`): a personal key"
        " has 5,000 driving-distance requests a day.",
    )
    nominatim_base_url: str | None = Field(default=None, description="A Nominatim server; unset: not used.")
    nominatim_user_agent: str = Field(default="fieldvisit", min_length=1, description="Nominatim's policy needs one.")
    nominatim_email: str | None = None
    nominatim_per_second: float = Field(default=1, gt=0)
    timeout_s: float = Field(default=5, gt=0)
    retries: int = Field(default=3, ge=0, description="Retries of a request after a 5xx, a timeout or no connection.")

    @property
    def on(self) -> bool:
        """Whether any geocoder is set."""
        return bool(self.amap_key) or bool(self.nominatim_base_url)


class TrackingSettings(BaseModel):
    """On-duty tracks (the branch sets how long they are kept and when a gap or a detour is a finding)."""

    duty_margin_min: int = Field(
        default=30, ge=0, le=240, description="Fixes are accepted this long after the end of the team's sheet."
    )
    watch_interval_s: float | None = Field(
        default=60, gt=0, description="How often the server looks for gaps and detours in on-duty tracks; unset: never."
    )
    purge_interval_s: float | None = Field(
        default=86400, gt=0, description="How often the tracks past their retention are purged; unset: never."
    )


class ConsoleSettings(BaseModel):
    """The supervisors' console at /console/. Without a tile server it draws the city's district outlines."""

    tile_url: str | None = Field(
        default=None,
        description="An XYZ tile URL template, e.g. https://tiles.example.internal/{z}/{x}/{y}.png; unset: no tiles.",
        pattern=r"^https?://[^/?#]+/.*\{z\}.*\{x\}.*\{y\}",
    )
    tile_attribution: str = Field(default="", max_length=300, description="Shown under the map with the tiles.")
    day_poll_s: float = Field(default=30, gt=0, description="How often the day map asks for changes.")
    findings_poll_s: float = Field(default=5, gt=0, description="How often the findings feed asks for new ones.")

    def tile_origin(self) -> str | None:
        if self.tile_url is None:
            return None
        scheme, rest = self.tile_url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIELDVISIT_", env_nested_delimiter="__", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    var_dir: Path = Path("var")
    problem_base_url: str = "/problems"
    auth: AuthSettings = AuthSettings()
    visits: VisitSettings = VisitSettings()
    planning: PlanningSettings = PlanningSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    webhooks: WebhookSettings = WebhookSettings()
    geocoding: GeocodingSettings = GeocodingSettings()
    console: ConsoleSettings = ConsoleSettings()
    tracking: TrackingSettings = TrackingSettings()
    redis_url: str | None = Field(default=None, description="Set: planning runs go through an RQ queue on Redis.")
    server_jobs: list[str] | None = Field(
        default=None,
        description="The background jobs the server runs in its own processes (`api.jobs`); unset: every one set up, "
        "planning only without redis_url. The others run in `fieldvisit worker --job …`.",
    )
    webhook_interval_s: float | None = Field(
        default=1.0, gt=0, description="How often the server sends due webhooks; null: not from this process."
    )
    promise_watch_interval_s: float | None = Field(
        default=3600,
        gt=0,
        description="How often the server looks for repayment promises past their date (and the grace days) and"
        " settles them: broken ones become findings; null: not from this process.",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Set: GET /metrics serves Prometheus metrics to `Authorization: Bearer <token>`."
    )
    max_body_bytes: int = Field(
        default=1 << 20, gt=0, description="Largest request body of a route that does not set its own (JSON)."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of the reverse proxies in front of the server: only a request from"
        " one of them has its X-Forwarded-For (the client's address, for the login throttle and the logs) and"
        " X-Forwarded-Proto believed. Empty: no forwarded header is believed; the peer is the client.",
    )
    host: str = "127.0.0.1"
    port: int = 8000

    @model_validator(mode="after")
    def _roads_under_var(self) -> Self:
        if self.planning.roads_dir is None:
            self.planning = self.planning.model_copy(update={"roads_dir": self.var_dir / "roads"})
        return self

    def field_rules(self) -> FieldRules:
        """The field rules among these settings, as the services receive them."""
        return FieldRules(
            geofence_radius_m=self.visits.geofence_radius_m,
            checkin_max_gap_s=self.visits.checkin_max_gap_s,
            duty_margin=timedelta(minutes=self.tracking.duty_margin_min),
            photo_far_m=self.evidence.photo_radius_m,
        )
