"""Which bytes a Range header asks for: one range served, the rest of the syntax ignored (the whole object), a
start past the end refused."""

import pytest

from api.visit_evidence.ranges import RangeNotSatisfiable, byte_span


@pytest.mark.parametrize(
    ("header", "span"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=990-5000", (990, 999)),  # clipped to the object
        ("bytes=-10", (990, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes = 5 - 9", (5, 9)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole object
        ("items=0-1", None),
        ("bytes=9-5", None),  # last before first: an invalid range-spec, ignored
        ("bytes=-", None),
        ("bytes=a-b", None),
    ],
)
def test_the_span_a_header_asks_for(header: str | None, span: tuple[int, int] | None) -> None:
    assert byte_span(header, 1000) == span


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_a_range_past_the_end_is_not_satisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        byte_span(header, 1000)
