"""The pre-solve diagnosis of stops no plan can include, and the words for stops a solver dropped."""

import numpy as np
import pytest

from routing.model import Break, Instance, Stop, Team, TimeWindow
from routing.plan import DropReason
from routing.reasons import eligible, explain_dropped, unservable

H = 3600
# locations: 0 depot, 1 a stop 10 min away, 2 a stop 2 h away
MINUTES = np.array([[0, 10, 120], [10, 0, 110], [120, 110, 0]]) * 60


def instance(stops: list[Stop], teams: list[Team] | None = None) -> Instance:
    crews = teams or [Team("t", 0, 0, TimeWindow(8 * H, 17 * H))]
    return Instance(crews, stops, MINUTES, MINUTES * 10)


def reasons(inst: Instance) -> dict[str, DropReason]:
    return {key: drop.reason for key, drop in unservable(inst).items()}


def test_stop_every_team_can_do_is_servable() -> None:
    inst = instance([Stop("ok", 1, 600, (TimeWindow(9 * H, 10 * H),), must_visit=True)])

    assert unservable(inst) == {}
    assert eligible(inst).tolist() == [[True]]


def test_missing_skill_is_named() -> None:
    teams = [Team("a", 0, 0, TimeWindow(8 * H, 17 * H), skills=frozenset({"legal"}))]
    inst = instance([Stop("x", 1, 600, required_skills=frozenset({"legal", "notary"}), must_visit=True)], teams)

    (drop,) = unservable(inst).values()

    assert drop.reason is DropReason.NO_TEAM_WITH_SKILL
    assert "legal, notary" in drop.detail


def test_pinned_team_without_the_skill() -> None:
    teams = [
        Team("a", 0, 0, TimeWindow(8 * H, 17 * H), skills=frozenset({"legal"})),
        Team("b", 0, 0, TimeWindow(8 * H, 17 * H)),
    ]
    inst = instance([Stop("x", 1, 600, required_skills=frozenset({"legal"}), pin_team="b")], teams)

    drop = unservable(inst)["x"]

    assert drop.reason is DropReason.NO_TEAM_WITH_SKILL and "team b" in drop.detail and "legal" in drop.detail


def test_teams_that_make_no_visits_cannot_take_a_stop() -> None:
    teams = [Team("a", 0, 0, TimeWindow(8 * H, 17 * H), max_visits=0)]

    assert reasons(instance([Stop("x", 1, 600)], teams)) == {"x": DropReason.NO_TEAM_WITH_SKILL}
    assert eligible(instance([Stop("x", 1, 600)], teams)).tolist() == [[False]]


def test_window_before_anyone_can_arrive_is_outside_every_shift() -> None:
    # the shift starts at 8:00 and the stop is 10 minutes away: 8:00-8:05 cannot be met
    inst = instance([Stop("early", 1, 600, (TimeWindow(7 * H, 8 * H + 300),), must_visit=True)])

    drop = unservable(inst)["early"]

    assert drop.reason is DropReason.OUTSIDE_EVERY_SHIFT
    assert "07:00 and 08:05" in drop.detail and "17:00" in drop.detail


def test_service_that_cannot_end_in_time_to_get_back_is_outside_every_shift() -> None:
    # starts at 16:00 at the latest, 2 h away from home, shift ends at 17:00
    late = Stop("late", 2, 600, (TimeWindow(15 * H + 1800, 16 * H),))

    assert reasons(instance([late])) == {"late": DropReason.OUTSIDE_EVERY_SHIFT}


def test_a_later_team_makes_the_stop_servable() -> None:
    late = Stop("late", 2, 600, (TimeWindow(15 * H + 1800, 16 * H),))
    teams = [Team("day", 0, 0, TimeWindow(8 * H, 17 * H)), Team("evening", 0, 0, TimeWindow(12 * H, 20 * H))]

    assert unservable(instance([late], teams)) == {}
    assert eligible(instance([late], teams)).tolist() == [[False, True]]


def test_any_window_of_several_is_enough() -> None:
    both = Stop("both", 1, 600, (TimeWindow(7 * H, 8 * H), TimeWindow(15 * H, 16 * H)))
    neither = Stop("neither", 1, 600, (TimeWindow(6 * H, 7 * H), TimeWindow(18 * H, 19 * H)))

    assert reasons(instance([both, neither])) == {"neither": DropReason.OUTSIDE_EVERY_SHIFT}


def test_break_may_be_taken_on_the_way() -> None:
    # to be at the far stop (2 h away) at 10:30 the team must leave at 8:00 and rest 30 min on the way at 9:00
    team = Team("t", 0, 0, TimeWindow(8 * H, 17 * H), breaks=(Break(9 * H, 9 * H, 1800),))
    on_time = Stop("on_time", 2, 600, (TimeWindow(10 * H + 1800, 10 * H + 1800),))
    too_early = Stop("too_early", 2, 600, (TimeWindow(10 * H, 10 * H + 1799),))

    assert reasons(instance([on_time, too_early], [team])) == {"too_early": DropReason.OUTSIDE_EVERY_SHIFT}


def test_break_that_leaves_no_room_for_the_visit() -> None:
    # an hour's rest at 12:00 sharp splits the day into 8:00-12:00 and 13:00-17:00, 10 minutes from home
    team = Team("t", 0, 0, TimeWindow(8 * H, 17 * H), breaks=(Break(12 * H, 12 * H, H),))
    fits = Stop("fits", 1, 3 * H, must_visit=True)
    too_long = Stop("too_long", 1, 4 * H, must_visit=True)

    assert reasons(instance([fits, too_long], [team])) == {"too_long": DropReason.OUTSIDE_EVERY_SHIFT}


def test_team_that_cannot_even_get_home_in_its_shift_takes_nothing() -> None:
    stuck = Team("stuck", 0, 2, TimeWindow(8 * H, 9 * H))
    assert reasons(instance([Stop("x", 1, 60)], [stuck])) == {"x": DropReason.OUTSIDE_EVERY_SHIFT}


def test_demand_no_team_can_carry() -> None:
    teams = [Team("small", 0, 0, TimeWindow(8 * H, 17 * H), capacity=5), Team("big", 0, 0, TimeWindow(8 * H, 17 * H))]
    heavy = Stop("heavy", 1, 60, demand=8)
    inst = instance([heavy, Stop("for_small", 1, 60, demand=8, pin_team="small")], teams)

    assert eligible(inst).tolist() == [[False, True], [False, False]]
    assert reasons(inst) == {"for_small": DropReason.PIN_IMPOSSIBLE}
    (drop,) = unservable(instance([heavy], teams[:1])).values()
    assert drop.reason is DropReason.NO_TEAM_WITH_SKILL and "demand of 8" in drop.detail


def test_pinned_team_that_cannot_reach_the_stop() -> None:
    teams = [Team("day", 0, 0, TimeWindow(8 * H, 17 * H)), Team("evening", 0, 0, TimeWindow(12 * H, 20 * H))]
    morning = Stop("morning", 1, 600, (TimeWindow(9 * H, 10 * H),), pin_team="evening", must_visit=True)

    drop = unservable(instance([morning], teams))["morning"]

    assert drop.reason is DropReason.PIN_IMPOSSIBLE and "evening" in drop.detail


def test_pinned_position_beyond_the_teams_visits() -> None:
    team = Team("t", 0, 0, TimeWindow(8 * H, 17 * H), max_visits=2)
    stops = [Stop(f"s{i}", 1, 60) for i in range(3)] + [Stop("third", 1, 60, pin_team="t", pin_position=3)]

    drop = unservable(instance(stops, [team]))["third"]

    assert drop.reason is DropReason.PIN_IMPOSSIBLE and "at most 2" in drop.detail


def test_pinned_position_with_too_few_stops_to_come_before() -> None:
    stops = [Stop("one", 1, 60), Stop("third", 1, 60, pin_team="t", pin_position=3)]

    drop = unservable(instance(stops))["third"]

    assert drop.reason is DropReason.PIN_IMPOSSIBLE and "only 1 other stop" in drop.detail


def test_pinned_team_that_makes_no_visits() -> None:
    teams = [Team("a", 0, 0, TimeWindow(8 * H, 17 * H)), Team("b", 0, 0, TimeWindow(8 * H, 17 * H), max_visits=0)]
    assert reasons(instance([Stop("x", 1, 60, pin_team="b")], teams)) == {"x": DropReason.PIN_IMPOSSIBLE}


def test_eligible_follows_skills_and_pins() -> None:
    teams = [
        Team("a", 0, 0, TimeWindow(8 * H, 17 * H), skills=frozenset({"legal"})),
        Team("b", 0, 0, TimeWindow(8 * H, 17 * H)),
        Team("c", 0, 0, TimeWindow(8 * H, 17 * H), skills=frozenset({"legal"})),
    ]
    stops = [
        Stop("any", 1, 60),
        Stop("legal", 1, 60, required_skills=frozenset({"legal"})),
        Stop("pinned", 1, 60, pin_team="c"),
    ]

    able = eligible(instance(stops, teams))

    assert able.tolist() == [[True, True, True], [True, False, True], [False, False, True]]


def test_explain_dropped_words_lower_priority_with_the_drop_cost() -> None:
    teams = [Team(f"t{i}", 0, 0, TimeWindow(8 * H, 17 * H)) for i in range(5)]
    inst = instance([Stop("x", 1, 60, drop_cost=1234), Stop("free", 1, 60)], teams)

    x, free = explain_dropped(inst, ["x", "free"])

    assert x.reason is free.reason is DropReason.LOWER_PRIORITY
    assert "1234" in x.detail and "t0, t1, t2 and 2 more" in x.detail
    assert "costs nothing" in free.detail


def test_explain_dropped_for_a_must_visit_stop() -> None:
    (drop,) = explain_dropped(instance([Stop("m", 1, 60, must_visit=True)]), ["m"])

    assert drop.reason is DropReason.LOWER_PRIORITY and "must be visited" in drop.detail


def test_explain_dropped_keeps_the_reason_of_an_unservable_stop() -> None:
    inst = instance([Stop("late", 1, 60, (TimeWindow(20 * H, 21 * H),)), Stop("ok", 1, 60)])

    late, ok = explain_dropped(inst, ["late", "ok"])

    assert late.reason is DropReason.OUTSIDE_EVERY_SHIFT and ok.reason is DropReason.LOWER_PRIORITY


def test_explain_dropped_refuses_unknown_keys() -> None:
    with pytest.raises(ValueError, match="nope"):
        explain_dropped(instance([Stop("x", 1, 60)]), ["nope"])


def test_explanations_name_teams_by_their_names_and_list_their_keys() -> None:
    teams = [
        Team("id-1", 0, 0, TimeWindow(8 * H, 17 * H), name="外访一组"),
        Team("id-2", 0, 0, TimeWindow(8 * H, 9 * H)),
    ]
    inst = instance([Stop("x", 1, 60, drop_cost=10), Stop("p", 1, 60, pin_team="id-1", pin_position=9)], teams)

    x, pinned = explain_dropped(inst, ["x", "p"])

    assert "外访一组, id-2" in x.detail and x.teams == ("id-1", "id-2")
    assert pinned.reason is DropReason.PIN_IMPOSSIBLE and "team 外访一组" in pinned.detail and pinned.teams == ("id-1",)
