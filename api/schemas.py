"""Base classes of request and response bodies."""

from datetime import time
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, Strict, WithJsonSchema, model_validator

T = TypeVar("T")


def _not_a_number(value: object) -> object:
    if isinstance(value, (bool, int, float)):
        raise ValueError("must be a string")
    return value


# FastAPI validates bodies in pydantic's Python mode, where strict types refuse the strings JSON carries UUIDs, dates,
# times and enum values in; a `FromJson[X]` member takes those strings (or an X), never a number or a boolean.
FromJson = Annotated[T, Strict(False), BeforeValidator(_not_a_number)]

# A wall-clock time of the branch's time zone, "HH:MM" (seconds accepted on input). Not JSON Schema's `time` format,
# which demands a UTC offset.
LocalTime = Annotated[
    time,
    Strict(False),
    BeforeValidator(_not_a_number),
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


class Body(BaseModel):
    """A request body: strict types (no coercion of `false` into 0) and no unknown members."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Patch(Body):
    """A partial update: members left out are unchanged; `null` is refused except for `nullable` members."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> "Patch":
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None and name not in self.nullable)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave the member out to keep its value")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class Read(BaseModel):
    """A response body read from a row."""

    model_config = ConfigDict(from_attributes=True)
