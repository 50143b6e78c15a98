"""Cheapest insertion of an urgent stop: the team and place that add the least, every other stop kept as it is."""

from routing.breaks import late_route, timed_route
from routing.insertion import Refusal, insertion_at, insertions
from routing.model import Break, Instance, Stop, Team, TimeWindow

DAY = TimeWindow(0, 20_000)


def _line(size: int) -> list[list[int]]:
    """Locations on a straight road 100 m apart (1 m/s)."""
    return [[abs(a - b) * 100 for b in range(size)] for a in range(size)]


def _day(**urgent: object) -> Instance:
    """Team a at 0 visits 2 and 4; team b at 20 visits 18; the urgent stop lies at 5."""
    return Instance(
        [Team("a", 0, 0, DAY, max_visits=3), Team("b", 20, 20, DAY)],
        [Stop("s2", 2, 60), Stop("s4", 4, 60), Stop("s18", 18, 60), Stop("urgent", 5, 60, **urgent)],  # type: ignore[arg-type]
        _line(21),
        _line(21),
    )


ROUTES = {"a": ["s2", "s4"], "b": ["s18"]}


def test_the_nearest_team_takes_it_where_it_adds_least_and_keeps_its_other_stops() -> None:
    instance = _day()

    found = insertions(instance, "urgent", ROUTES)

    best = found[0]
    assert (best.team, best.added_m) == ("a", 200)  # 5 lies 100 m past s4: out and back, wherever after s2
    assert best.route is not None and [visit.stop for visit in best.route.visits][best.position - 1] == "urgent"
    assert {visit.stop for visit in best.route.visits} == {"s2", "s4", "urgent"}
    assert (found[1].team, found[1].added_m) == ("b", 2_600)  # from 18 out to 5 and back


def test_a_team_without_the_skill_or_past_its_visit_limit_is_refused_with_the_reason() -> None:
    skilled = _day(required_skills=frozenset({"experienced"}))
    full = insertions(_day(), "urgent", {"a": ["s2", "s4", "s18"], "b": []})

    assert {option.team: option.refusal for option in insertions(skilled, "urgent", ROUTES)} == {
        "a": Refusal.SKILL,
        "b": Refusal.SKILL,
    }
    assert {option.team: option.refusal for option in full} == {"a": Refusal.VISIT_LIMIT, "b": None}


def test_no_place_in_the_window_is_no_time_and_a_late_team_is_running_late() -> None:
    closed = _day(windows=(TimeWindow(0, 10),))  # nobody gets to 5 by 10 s
    late = Instance(
        [Team("a", 0, 0, TimeWindow(0, 500), breaks=(Break(0, 100, 400),)), Team("b", 20, 20, DAY)],
        [Stop("s4", 4, 60), Stop("urgent", 5, 60)],
        _line(21),
        _line(21),
    )

    assert {option.refusal for option in insertions(closed, "urgent", ROUTES)} == {Refusal.NO_TIME}
    assert {option.team: option.refusal for option in insertions(late, "urgent", {"a": ["s4"]})} == {
        "a": Refusal.RUNNING_LATE,
        "b": None,
    }


def test_a_stop_put_at_a_chosen_place_is_timed_there_or_refused_naming_the_first_stop_it_makes_miss() -> None:
    instance = Instance(
        [Team("a", 0, 0, DAY)],
        [Stop("s2", 2, 60, windows=(TimeWindow(0, 400),)), Stop("s4", 4, 60), Stop("urgent", 5, 60)],
        _line(21),
        _line(21),
    )

    last = insertion_at(instance, "urgent", {"a": ["s2", "s4"]}, "a", 2)
    first = insertion_at(instance, "urgent", {"a": ["s2", "s4"]}, "a", 0)  # 500 s to 5, then back to 2: too late

    assert last.route is not None and [visit.stop for visit in last.route.visits] == ["s2", "s4", "urgent"]
    assert (last.position, last.added_m) == (3, 200)
    assert (first.route, first.refusal, first.misses) == (None, Refusal.NO_TIME, "s2")


def test_a_route_that_no_longer_fits_is_timed_as_late_as_it_will_really_be() -> None:
    instance = Instance(
        [Team("a", 0, 0, TimeWindow(0, 500))],
        [Stop("s2", 2, 60, windows=(TimeWindow(0, 250),)), Stop("s4", 4, 60)],
        _line(21),
        _line(21),
    )
    team, stops = instance.teams[0], list(instance.stops)

    late = late_route(instance, team, stops[::-1])  # s4 first: s2 after its window, back after the shift

    assert timed_route(instance, team, stops[::-1]) is None
    assert late is not None and [visit.stop for visit in late.visits] == ["s4", "s2"]
    assert (late.visits[1].start_s, late.end_s) == (660, 920)
