"""The presence rule on the synthetic library of `tests.rules.tracks`, without a database: every honest visit scores
high and flags nothing, every fraud is flagged by the signal it should be and falls under the threshold; and the
rule's arithmetic on small hand-made scenes."""

from dataclasses import replace
from datetime import timedelta

import pytest

from api.rules.presence import (
    Assessment,
    PhotoFix,
    PresenceRules,
    PreviousStop,
    SignalName,
    TrackFix,
    VisitScene,
    along_route_m,
    assess,
    doubtful,
)
from tests.rules.tracks import AGENTS, METRE_LAT, Case, honest, library

THRESHOLD = 60  # the branch default
LIBRARY = library()
HONEST = [case for case in LIBRARY if not case.fraud]
FRAUDS = [case for case in LIBRARY if case.fraud]


def confusion(cases: list[Case], rules: PresenceRules = PresenceRules()) -> dict[tuple[bool, bool], int]:
    """(fraud, flagged as doubtful) → number of visits, judged at completion."""
    table = {(fraud, flagged): 0 for fraud in (False, True) for flagged in (False, True)}
    for case in cases:
        table[case.fraud, doubtful(assess(case.scene, rules).score, THRESHOLD)] += 1
    return table


def test_the_library_holds_honest_days_and_each_fraud_the_issue_names() -> None:
    names = {case.name for case in LIBRARY}
    assert len(HONEST) >= 8
    assert {
        "office_spoofer",
        "one_agent_two_phones",
        "teleport",
        "replayed_track",
        "identical_coordinates",
        "photo_elsewhere",
        "mock_flag",
        "clock_far",
    } <= names


@pytest.mark.parametrize("case", HONEST, ids=lambda case: case.name)
def test_an_honest_visit_scores_high_and_flags_nothing(case: Case) -> None:
    completed = assess(case.scene)
    started = assess(case.start_scene)

    assert completed.flagged == () and started.flagged == ()
    assert completed.score >= 80, [(s.name, s.score, s.detail) for s in completed.signals if s.score < 1]
    assert not doubtful(started.score, THRESHOLD), [(s.name, s.detail) for s in started.signals if s.score < 1]


@pytest.mark.parametrize("case", FRAUDS, ids=lambda case: case.name)
def test_a_fraud_is_flagged_by_its_signal_and_doubtful(case: Case) -> None:
    assessment = assess(case.scene)

    assert case.expected <= set(assessment.flagged), [(s.name, s.detail) for s in assessment.signals]
    assert assessment.score <= PresenceRules().flagged_cap
    assert doubtful(assessment.score, THRESHOLD)


def test_the_confusion_table_over_the_library_has_no_false_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    table = confusion(LIBRARY)
    with capsys.disabled():
        print(
            f"\npresence confusion table ({len(LIBRARY)} visits, threshold {THRESHOLD}):"
            f"\n                 flagged  not flagged"
            f"\n  honest  {table[False, True]:>12} {table[False, False]:>12}"
            f"\n  fraud   {table[True, True]:>12} {table[True, False]:>12}"
        )
    assert table == {(False, False): len(HONEST), (False, True): 0, (True, True): len(FRAUDS), (True, False): 0}


def test_the_office_spoofer_is_caught_at_the_start_already() -> None:
    spoofer = next(case for case in FRAUDS if case.name == "office_spoofer")
    assert SignalName.CONTINUITY in assess(spoofer.start_scene).flagged


def test_every_signal_is_listed_with_its_value_weight_and_a_sentence() -> None:
    assessment = assess(HONEST[0].scene)

    assert [signal.name for signal in assessment.signals] == list(SignalName)
    for signal in assessment.signals:
        assert 0 <= signal.score <= 1 and signal.weight >= 0 and signal.detail.endswith(".")
    weighted = [signal for signal in assessment.signals if signal.weight]
    expected = sum(s.weight * s.score for s in weighted) / sum(s.weight for s in weighted)
    assert assessment.score == round(100 * expected)


def test_a_visit_without_any_fix_is_not_flagged_but_shows_no_presence() -> None:
    scene = replace(HONEST[0].scene, tracks={agent: () for agent in AGENTS}, photos=(), recordings_s=())
    assessment = assess(scene)
    by_name = {signal.name: signal for signal in assessment.signals}

    assert assessment.flagged == ()
    assert by_name[SignalName.DWELL].score == 0 and by_name[SignalName.CO_PRESENCE].score == 0
    assert by_name[SignalName.MOCK_LOCATION].weight == 0  # nothing to look at weighs nothing
    assert doubtful(assessment.score, THRESHOLD)  # the check-ins alone do not prove a visit


def test_one_mock_flagged_fix_caps_the_score() -> None:
    scene = HONEST[0].scene
    first, *rest = scene.tracks[AGENTS[0]]
    tracks = {**scene.tracks, AGENTS[0]: (replace(first, mock=True), *rest)}
    assessment = assess(replace(scene, tracks=tracks))

    assert assessment.flagged == (SignalName.MOCK_LOCATION,)
    assert assessment.score == PresenceRules().flagged_cap


def test_a_phone_resending_its_fixes_counts_them_once() -> None:
    scene = HONEST[0].scene
    twice = {agent: fixes + fixes for agent, fixes in scene.tracks.items()}
    assert assess(replace(scene, tracks=twice)) == assess(scene)


def test_the_order_fixes_arrive_in_does_not_matter() -> None:
    scene = HONEST[1].scene
    shuffled = {agent: tuple(reversed(fixes)) for agent, fixes in scene.tracks.items()}
    assert assess(replace(scene, tracks=shuffled)) == assess(scene)


def test_a_device_clock_is_judged_by_its_skew_not_its_fixes_times() -> None:
    """The fixes of a phone 30 min behind are placed by the server's clock: its track still shows the visit."""
    visit = honest(7, skew_s=(0, -1800))
    by_name = {signal.name: signal for signal in assess(visit.scene()).signals}

    assert by_name[SignalName.CLOCK_SKEW].flagged
    assert not by_name[SignalName.DWELL].flagged and by_name[SignalName.DWELL].score > 0.8
    assert not by_name[SignalName.CO_PRESENCE].flagged


def test_a_photo_without_a_position_is_unknown_never_agreement() -> None:
    """The office spoofer turned geotagging off: photos timed inside the visit, no EXIF position (issue 31)."""
    scene = HONEST[0].scene
    timed_only = tuple(PhotoFix(None, None, photo.taken_at) for photo in scene.photos)
    outside = (PhotoFix(None, None, scene.arrived_at - timedelta(hours=3)),)

    unknown = next(s for s in assess(replace(scene, photos=timed_only)).signals if s.name is SignalName.PHOTO_AGREEMENT)
    late = next(s for s in assess(replace(scene, photos=outside)).signals if s.name is SignalName.PHOTO_AGREEMENT)

    assert all(photo.taken_at is not None for photo in timed_only)
    assert (unknown.value, unknown.weight, unknown.score) == (None, 0.0, 0.0)
    assert unknown.detail == "No photo carries an EXIF position: unknown."
    assert (late.value, late.score, late.flagged) == (0.0, 0.0, True)  # a time alone can still disagree


def test_a_check_in_far_from_the_agents_own_track_is_a_jump() -> None:
    """At the start: the agent's phone tracked them 5.3 km away until 10 s before a check-in at the door (issue 31);
    their fixes move steadily, so only the check-in against them tells."""
    scene = HONEST[0].scene
    check_in = next(c for c in scene.check_ins if c.agent == AGENTS[0])
    north = 5300 / 111_195
    away = tuple(
        replace(fix, lat=fix.lat + north)
        for fix in scene.tracks[AGENTS[0]]
        if fix.at <= check_in.received_at - timedelta(seconds=10)
    )
    tracks = {**scene.tracks, AGENTS[0]: away}
    at_start = replace(scene, tracks=tracks, until=scene.arrived_at + timedelta(minutes=2), previous_stop=None)

    assessment = assess(at_start)
    continuity = next(s for s in assessment.signals if s.name is SignalName.CONTINUITY)

    assert continuity.flagged and SignalName.CONTINUITY in assessment.flagged
    assert "the first agent's check-in is 5.3 km from their own fix" in continuity.detail
    assert assessment.score <= PresenceRules().flagged_cap


def test_the_rules_weights_decide_the_score() -> None:
    scene = HONEST[2].scene
    photos_only = PresenceRules(
        check_ins_weight=0,
        dwell_weight=0,
        co_presence_weight=0,
        continuity_weight=0,
        recording_weight=0,
        spoof_weight=0,
    )
    photo = next(s for s in assess(scene).signals if s.name is SignalName.PHOTO_AGREEMENT)
    assert assess(scene, photos_only).score == round(100 * photo.score)


def test_a_scene_with_nothing_to_weigh_scores_zero() -> None:
    scene = VisitScene(
        door=HONEST[0].scene.door,
        agents=AGENTS,
        arrived_at=HONEST[0].scene.arrived_at,
        until=HONEST[0].scene.arrived_at + timedelta(seconds=10),
        check_ins=(),
        tracks={},
    )
    assessment: Assessment = assess(scene, PresenceRules(check_ins_weight=0))
    assert assessment.score == 0 and assessment.flagged == ()


def test_fixes_of_impossible_accuracy_are_flagged() -> None:
    scene = HONEST[0].scene
    fixes: tuple[TrackFix, ...] = scene.tracks[AGENTS[1]]
    sharp = tuple(replace(fix, accuracy_m=0.3) if k % 5 == 0 else fix for k, fix in enumerate(fixes))
    assessment = assess(replace(scene, tracks={**scene.tracks, AGENTS[1]: sharp}))
    assert SignalName.IMPOSSIBLE_ACCURACY in assessment.flagged


def test_the_previous_stop_is_as_far_from_the_door_as_the_days_roads_not_the_straight_line() -> None:
    """Across a river: 600 m straight, 6 km over the only bridge. Two minutes from one door to the other is 18 km/h
    in a straight line and honest; on the day's route it is 180 km/h, a jump. (The phones sent no fixes on the way.)"""
    scene = honest(103).scene()
    left = scene.arrived_at - timedelta(minutes=2)
    across = PreviousStop(scene.door.lat + 600 * METRE_LAT, scene.door.lon, left)

    straight = assess(replace(scene, tracks={}, previous_stop=across))
    by_road = assess(replace(scene, tracks={}, previous_stop=replace(across, route_m=6_000)))

    assert SignalName.CONTINUITY not in straight.flagged
    assert SignalName.CONTINUITY in by_road.flagged
    continuity = next(signal for signal in by_road.signals if signal.name is SignalName.CONTINUITY)
    assert "by the day's route" in continuity.detail


def test_along_the_route_counts_from_one_door_to_the_next_after_it() -> None:
    north, bridge, south, home = (31.2, 121.4), (31.2, 121.41), (31.19, 121.41), (31.19, 121.4)
    route = [north, bridge, south, home, north]

    assert along_route_m(route, north, south) == pytest.approx(950 + 1112, rel=0.01)
    assert along_route_m(route, south, north) == pytest.approx(950 + 1112, rel=0.01)  # on, by way of home
    assert along_route_m(route, (31.0, 121.0), south) is None
