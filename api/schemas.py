"""Base classes of request and response bodies."""

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    Strict,
    WithJsonSchema,
    field_validator,
    model_validator,
)

T = TypeVar("T")


def _not_a_number(value: object) -> object:
    if isinstance(value, (bool, int, float)):
        raise ValueError("must be a string")
    return value


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # the days a branch plans, visits and reports on
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: object) -> object:
    if not isinstance(value, (str, date)) or (isinstance(value, str) and not _ISO_DAY.match(value)):
        raise ValueError("give a date as YYYY-MM-DD")
    return value


def _on_the_calendar(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"give a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}")
    return value


# A day in a URL's path or query: YYYY-MM-DD between FIRST_DAY and LAST_DAY (never a number of seconds, year 1 or 9999).
Day = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_on_the_calendar)]


# FastAPI validates bodies in pydantic's Python mode, where strict types refuse the strings JSON carries UUIDs, dates,
# times and enum values in; a `FromJson[X]` member takes those strings (or an X), never a number or a boolean.
FromJson = Annotated[T, Strict(False), BeforeValidator(_not_a_number)]


def _without_offset(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give the branch's local time without a UTC offset, e.g. 09:30")
    return value


# A wall-clock time of the branch's time zone, "HH:MM" (seconds accepted on input). Not JSON Schema's `time` format,
# which demands a UTC offset; an offset is refused, since it could not be compared with the branch's hours.
LocalTime = Annotated[
    time,
    Strict(False),
    BeforeValidator(_not_a_number),
    AfterValidator(_without_offset),
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
            "description": "Local wall-clock time of the branch, HH:MM.",
            "examples": ["09:30"],
        }
    ),
]


def _in_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# A moment in a response body: always UTC, written with a Z (e.g. 2026-12-02T01:30:00Z), whatever zone it was in.
Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class Body(BaseModel):
    """A request body: strict types (no coercion of `false` into 0), no unknown members, text that is valid Unicode
    without NUL characters (PostgreSQL cannot store NUL in text, a lone surrogate cannot be encoded at all, and
    neither is ever meant)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _valid_text(cls, value: Any) -> Any:
        problem = _text_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def _text_problem(value: Any) -> str | None:
    if isinstance(value, str):
        if "\x00" in value:
            return "must not contain NUL (\\u0000) characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode (a lone surrogate such as \\udfff is not)"
        return None
    if isinstance(value, list | tuple):
        return next(filter(None, map(_text_problem, value)), None)
    if isinstance(value, dict):
        return next(filter(None, (_text_problem(key) or _text_problem(item) for key, item in value.items())), None)
    return None


class Patch(Body):
    """A partial update: members left out are unchanged; `null` is refused except for `nullable` members."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> "Patch":
        nulls = sorted(
            name for name in self.model_fields_set if getattr(self, name) is None and name not in self.nullable
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave the member out to keep its value")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class Read(BaseModel):
    """A response body read from a row."""

    model_config = ConfigDict(from_attributes=True)
