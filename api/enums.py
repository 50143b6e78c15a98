"""How enums are stored: as their values in a VARCHAR with a CHECK constraint, the same on both backends."""

from enum import Enum as PyEnum

from sqlalchemy import Enum


def enum_column_type(enum: type[PyEnum], name: str) -> Enum:
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(str(member.value)) for member in enum),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
