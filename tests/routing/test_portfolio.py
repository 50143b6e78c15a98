"""The portfolio runs the engines at once and keeps the best plan the checker accepts."""

import time
from datetime import timedelta

import pytest

from bench.routing.branch_day import branch_day
from routing import portfolio, solve
from routing.check import assert_feasible
from routing.model import Break, Instance, Stop, Team, TimeWindow
from routing.portfolio import solve_seeded
from routing.solver import solve_ortools

LIMIT = timedelta(seconds=1.5)


def _line(stops: int) -> tuple[list[list[int]], list[list[int]]]:
    """Locations on a straight road 100 m apart (1 m/s), location 0 the office."""
    matrix = [[abs(a - b) * 100 for b in range(stops + 1)] for a in range(stops + 1)]
    return matrix, matrix


def test_a_plain_day_is_solved_by_both_engines_and_the_best_kept() -> None:
    durations, distances = _line(4)
    day = TimeWindow(0, 10_000)
    instance = Instance(
        [Team("a", 0, 0, day), Team("b", 0, 0, day)],
        [Stop(f"s{i}", i, 60, must_visit=True) for i in range(1, 5)],
        durations,
        distances,
    )

    plan = solve(instance, time_limit=LIMIT, seed=1)

    report = assert_feasible(instance, plan)
    assert report.planned == 4 and plan.distance_m == 800  # out to the far end and back, once
    assert plan.stats.engine in ("pyvrp", "ortools")


def _lunch_day(*, pinned: bool = False) -> Instance:
    durations, distances = _line(3)
    lunch = Break(earliest_start_s=1_000, latest_start_s=2_000, duration_s=600)
    return Instance(
        [Team("a", 0, 0, TimeWindow(0, 10_000), breaks=(lunch,))],
        [
            Stop(f"s{i}", i, 300, must_visit=True, pin_team="a" if pin else None, pin_position=1 if pin else None)
            for i, pin in ((i, pinned and i == 2) for i in range(1, 4))
        ],
        durations,
        distances,
    )


def test_breaks_go_to_ortools_alone_and_from_pyvrp_routes() -> None:
    instance = _lunch_day()

    plan = solve(instance, time_limit=LIMIT, seed=1)

    assert_feasible(instance, plan)
    assert plan.stats.engine in ("pyvrp+ortools", "ortools")
    assert len(plan.routes[0].breaks) == 1


def test_ortools_from_pyvrp_routes_fits_the_break_in() -> None:
    instance = _lunch_day()

    plan = solve_seeded(instance, time_limit=LIMIT, seed=1)

    assert_feasible(instance, plan)
    assert plan.stats.engine == "pyvrp+ortools"
    assert plan.distance_m == 600 and len(plan.routes[0].breaks) == 1


def test_position_pins_go_to_two_ortools_strategies() -> None:
    instance = _lunch_day(pinned=True)

    plan = solve(instance, time_limit=LIMIT, seed=1)

    assert_feasible(instance, plan)
    assert plan.stats.engine == "ortools"
    assert plan.routes[0].visits[0].stop == "s2"
    assert solve_seeded(instance, time_limit=LIMIT, seed=1).stats.engine == "ortools"


def test_one_worker_runs_ortools_alone_in_an_engine_process() -> None:
    durations, distances = _line(2)
    instance = Instance(
        [Team("a", 0, 0, TimeWindow(0, 5_000))], [Stop("s1", 1, 0), Stop("s2", 2, 0)], durations, distances
    )

    plan = solve(instance, time_limit=timedelta(seconds=0.5), workers=1)

    assert plan.stats.engine == "ortools"
    assert_feasible(instance, plan)


# returning within the limit plus this is what `solve` promises (a late worker's grace, checking); generous, as the
# test machine may be busy
MARGIN_S = 3.0


def test_a_large_day_under_a_short_limit_comes_back_in_time_with_a_valid_plan() -> None:
    instance = branch_day(1_000, 1)  # lunch breaks: OR-Tools from PyVRP's routes beside OR-Tools alone
    limit = timedelta(seconds=3)

    began = time.perf_counter()
    plan = solve(instance, time_limit=limit, seed=1)
    wall_s = time.perf_counter() - began

    assert_feasible(instance, plan)
    assert wall_s < limit.total_seconds() + MARGIN_S
    assert plan.planned and not plan.stats.timed_out


def test_ortools_out_of_time_says_so_and_drops_every_stop() -> None:
    instance = branch_day(1_000, 1)  # its first plan takes OR-Tools seconds

    plan = solve_ortools(instance, time_limit=timedelta(milliseconds=100))

    assert plan.stats.timed_out
    assert not plan.planned and len(plan.dropped) == len(instance.stops)
    assert_feasible(instance, plan)


def test_pyvrp_routes_are_kept_when_ortools_has_no_time_to_take_them_over() -> None:
    instance = branch_day(1_000, 1)

    plan = solve_seeded(instance, time_limit=timedelta(seconds=1), seed=1)

    assert_feasible(instance, plan)
    assert plan.planned and not plan.stats.timed_out


def _stuck(instance: Instance, *, time_limit: timedelta) -> None:
    """An engine whose process never hands a plan back in time (a machine too busy to run it)."""
    time.sleep(60)


def test_when_no_engine_comes_back_in_time_the_plan_says_so_and_the_limit_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance = branch_day(100, 1)
    monkeypatch.setattr(portfolio, "_engines", lambda *_: [_stuck, _stuck])
    limit = timedelta(milliseconds=500)

    began = time.perf_counter()
    plan = solve(instance, time_limit=limit, seed=1)
    wall_s = time.perf_counter() - began

    assert wall_s < limit.total_seconds() + MARGIN_S
    assert plan.stats.timed_out and not plan.planned and len(plan.dropped) == len(instance.stops)
