"""Base classes of request and response bodies."""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


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
