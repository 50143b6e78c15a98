"""The road engines' answers kept between calls (routing.kept): what is kept, for how long, and how much."""

from collections.abc import Iterator

import numpy as np
import pytest

from routing import kept
from routing.kept import UNKNOWN, forget


@pytest.fixture(autouse=True)
def nothing_kept() -> Iterator[None]:
    forget()
    yield
    forget()


def _points(*numbers: int) -> np.ndarray:
    return np.array([[31.0 + n / 100, 121.0 + n / 100] for n in numbers])


def _answer(engine: str, *numbers: int) -> None:
    """Ask for the points, answering every unknown pair with (from * 100 + to) seconds."""
    with kept.kept(engine, _points(*numbers)) as answers:
        unknown = answers.durations == UNKNOWN
        values = np.array([[a * 100 + b for b in numbers] for a in numbers], dtype=float)
        answers.durations[unknown] = values[unknown]
        answers.distances[unknown] = values[unknown]


def _stale(engine: str, *numbers: int) -> list[int]:
    with kept.kept(engine, _points(*numbers)) as answers:
        return [numbers[i] for i in answers.stale]


def test_what_was_answered_is_kept_and_only_the_new_points_are_stale() -> None:
    _answer("engine", 1, 2, 3)

    assert _stale("engine", 3, 1, 2) == []
    assert _stale("engine", 1, 4, 2) == [4]
    assert _stale("other engine", 1, 2) == [1, 2]
    with kept.kept("engine", _points(2, 1)) as answers:
        assert answers.durations.tolist() == [[202, 201], [102, 101]]


def test_a_pair_never_asked_between_two_known_points_is_asked_again() -> None:
    _answer("engine", 1, 2)
    _answer("engine", 1, 3)  # 2 and 3 are known, but not to each other

    assert _stale("engine", 1, 2, 3) == [2]


def test_answers_are_kept_an_hour_and_for_the_engines_used_last(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(kept, "_clock", lambda: now[0])
    _answer("engine", 1, 2)
    now[0] += kept.MAX_AGE_S - 1
    assert _stale("engine", 1, 2) == []
    now[0] += 2
    assert _stale("engine", 1, 2) == [1, 2]
    for number in range(kept.MAX_ENGINES):
        _answer(f"engine {number}", 1, 2)
    _answer("one more", 1, 2)
    assert _stale("engine 0", 1, 2) == [1, 2] and _stale(f"engine {kept.MAX_ENGINES - 1}", 1, 2) == []


def test_past_its_size_an_engines_answers_keep_only_the_points_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept, "MAX_POINTS", 4)
    _answer("engine", 1, 2, 3)

    assert _stale("engine", 1, 2, 4, 5) == [4, 5]  # 3 is dropped for room
    assert _stale("engine", 1, 3) == [3]
