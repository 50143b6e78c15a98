"""Byte ranges of a download (RFC 9110 §14): one range is served as 206 (a player seeking in an hour-long
recording); a header this server does not take (several ranges, another unit, bad syntax) gets the whole object, as
the RFC allows; a range wholly past the end is 416."""

import re

_ONE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ValueError):
    """The range starts at or after the end of the object."""


def byte_span(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte, inclusive, that a Range header asks for, clipped to the object; None for the whole."""
    if header is None:
        return None
    found = _ONE_RANGE.match(header.strip().replace(" ", ""))
    if found is None or found.groups() == ("", ""):
        return None
    first, last = found.groups()
    if first == "":  # the last N bytes
        if int(last) == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - int(last)), size - 1
    if int(first) >= size:
        raise RangeNotSatisfiable(header)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if end < int(first):
        return None  # an invalid range-spec: the header is ignored
    return int(first), end
