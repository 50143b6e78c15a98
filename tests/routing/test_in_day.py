"""A day under way re-planned warm: the stops the published routes lack (a team stood down, stops dropped the
evening before) are put in where they fit, and no stop leaves its home team for nothing."""

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing import solve
from routing.check import assert_feasible
from routing.insertion import insert_unplanned
from routing.model import Break, Instance, Stop, Team, TimeWindow
from routing.portfolio import solve_warm

DAY = TimeWindow(0, 40_000)
LUNCH = Break(10_000, 14_000, 1_800)


def _day(homes: list[int | None], move_cost: int = 3_000) -> Instance:
    """Two teams at 0 and 20 on a line, both with a lunch break; stop i at i + 1 with home team homes[i] (None: a
    stop of a team stood down, or one the evening dropped), each worth more than any detour."""
    size = len(homes) + 1
    matrix = [[abs(x - y) * 100 for y in range(max(size, 21))] for x in range(max(size, 21))]
    teams = [Team("a", 0, 0, DAY, breaks=(LUNCH,)), Team("b", 20, 20, DAY, breaks=(LUNCH,))]
    stops = [
        Stop(
            f"s{i}",
            i + 1,
            300,
            drop_cost=50_000,
            home_team=None if home is None else "ab"[home],
            move_cost=0 if home is None else move_cost,
        )
        for i, home in enumerate(homes)
    ]
    return Instance(teams, stops, matrix, matrix)


def _published(instance: Instance) -> dict[str, list[str]]:
    return {team.key: [s.key for s in instance.stops if s.home_team == team.key] for team in instance.teams}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([0, 1, None]), min_size=1, max_size=12))
def test_insertion_keeps_the_routes_and_puts_in_every_stop_that_fits(homes: list[int | None]) -> None:
    instance = _day(homes)
    published = _published(instance)

    routes = insert_unplanned(instance, published)

    for team, keys in published.items():  # the published stops keep their team and order
        assert [key for key in routes.get(team, []) if key in keys] == keys
    assert sorted(key for keys in routes.values() for key in keys) == sorted(s.key for s in instance.stops)


@settings(max_examples=5, deadline=None)
@given(st.lists(st.sampled_from([0, 1, None]), min_size=4, max_size=10))
def test_the_warm_engine_plans_every_stop_and_moves_none(homes: list[int | None]) -> None:
    instance = _day(homes, move_cost=100_000)  # dearer than any detour on this line
    published = _published(instance)

    plan = solve_warm(instance, time_limit=timedelta(seconds=1), initial_routes=published)

    assert_feasible(instance, plan)
    assert not plan.dropped
    assert instance.moves_cost(plan.team_stops()) == 0


def test_an_in_day_re_plan_gives_a_stood_down_teams_stops_to_the_others() -> None:
    instance = _day([0, 0, None, None, 1, 1, None], move_cost=100_000)

    plan = solve(instance, time_limit=timedelta(seconds=3), seed=1, initial_routes=_published(instance))

    assert_feasible(instance, plan)
    assert not plan.dropped
    assert instance.moves_cost(plan.team_stops()) == 0


def test_a_stop_that_fits_nowhere_stays_out() -> None:
    matrix = [[0, 100, 30_000], [100, 0, 30_000], [30_000, 30_000, 0]]
    instance = Instance(
        [Team("a", 0, 0, TimeWindow(0, 10_000))],
        [Stop("near", 1, 60, drop_cost=1_000, home_team="a", move_cost=10), Stop("far", 2, 60, drop_cost=99_999)],
        matrix,
        matrix,
    )

    assert insert_unplanned(instance, {"a": ["near"]}) == {"a": ["near"]}
