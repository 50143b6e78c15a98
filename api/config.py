"""Settings: the only place that reads the environment (prefix ``FIELDVISIT_``, nested groups split by ``__``)."""

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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


class VisitSettings(BaseModel):
    """Rules of a visit at the door."""

    geofence_radius_m: int = Field(default=200, gt=0)
    checkin_max_gap_s: int = Field(default=600, gt=0)


class PlanningSettings(BaseModel):
    """Next-day planning: how long the solver may take, on how many processes, and how teams travel."""

    time_limit_s: int = Field(default=60, ge=1, le=3600, description="Solver time per planning run.")
    solver_workers: int = Field(default=2, ge=1, le=2, description="2: a portfolio of engines on two processes.")
    travel_mode: str = Field(default="driving", pattern="^(walking|transit|driving)$")
    seed: int = 1
    queue_name: str = Field(default="planning", description="RQ queue of planning runs (with redis_url).")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIELDVISIT_", env_nested_delimiter="__", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    var_dir: Path = Path("var")
    problem_base_url: str = "/problems"
    auth: AuthSettings = AuthSettings()
    visits: VisitSettings = VisitSettings()
    planning: PlanningSettings = PlanningSettings()
    redis_url: str | None = Field(default=None, description="Set: planning runs go through an RQ queue on Redis.")
    webhook_interval_s: float | None = Field(
        default=1.0, gt=0, description="How often the server sends due webhooks; null: not from this process."
    )
    host: str = "127.0.0.1"
    port: int = 8000
