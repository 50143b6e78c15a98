"""`python -m bench.presence`: the presence rule over many drawn visits of `tests.rules.tracks`, honest and fraudulent,
and its speed.

Honest visits are drawn with the library's own randomness (noise 5-15 m, a quarter of them in a 30 m urban canyon,
visits of 6 to 40 minutes, some with a phone silent for minutes, some with a device clock a little off); each fraud
of the library is drawn from as many seeds. Printed: the confusion table (honest vs fraud, doubtful vs not, at
completion and at the start), per fraud how often it is flagged by the signal it should be, per signal how often an
honest visit raises it, how often two people side by side who never part and one person carrying both phones are
found doubtful (at low, ordinary and high GPS noise, with and without the phones' step counts), then the time
`assess` takes on `--visits` completed visits of 30 min of approach, 20 min at the door and 10 after (two phones, a
fix every 15 s: about 480 fixes a visit), with the sort of those fixes, the least any rule must do, timed on the same
visits as a peer.
"""

import argparse
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable

from api.rules.presence import PresenceRules, SignalName, assess, doubtful
from tests.rules import tracks
from tests.rules.tracks import Case

FRAUDS: dict[str, Callable[[int], Case]] = {
    "office_spoofer": tracks._office_spoofer,
    "one_agent_two_phones": tracks.one_agent_two_phones,
    "teleport": tracks._teleport,
    "teleport_mid_approach": tracks._teleport_mid_approach,
    "replayed_track": tracks._replayed_track,
    "identical_coordinates": tracks._identical_coordinates,
    "photo_elsewhere": tracks._photo_elsewhere,
    "photo_other_day": tracks._photo_other_day,
    "mock_flag": tracks._mock_flag,
    "clock_far": tracks._clock_far,
    "second_agent_elsewhere": tracks._second_agent_elsewhere,
}


NOISE: dict[str, dict[str, float]] = {  # the shared error and each phone's own
    "low": {"noise_m": 4.0, "device_noise_m": 1.0},
    "ordinary": {"device_noise_m": 5.0},
    "high": {"noise_m": 30.0, "device_noise_m": 10.0},
}


def honest_case(seed: int) -> Case:
    """An honest visit with a variant drawn from the seed."""
    rng = random.Random(seed * 7919)
    variant: dict[str, object] = {}
    if rng.random() < 0.25:
        variant["noise_m"] = 30.0
    if rng.random() < 0.3:
        variant["visit_s"] = rng.uniform(6 * 60, 40 * 60)
    if rng.random() < 0.15:
        start = rng.uniform(-20 * 60, 5 * 60)
        variant["silent"] = (start, start + rng.uniform(3 * 60, 8 * 60))
    if rng.random() < 0.2:
        variant["skew_s"] = (rng.randint(-90, 90), rng.randint(-90, 90))
    return tracks._case(f"honest_{seed}", tracks.honest(seed, **variant))


def confusion(cases: list[Case], threshold: int, rules: PresenceRules) -> None:
    for stage in ("completion", "start"):
        table: Counter[tuple[bool, bool]] = Counter()
        wrong: Counter[str] = Counter()
        for case in cases:
            if stage == "start" and case.name.startswith("photo_"):
                continue  # no photos at the start
            scene = case.scene if stage == "completion" else case.start_scene
            verdict = doubtful(assess(scene, rules).score, threshold)
            table[case.fraud, verdict] += 1
            if verdict != case.fraud:
                wrong["honest" if not case.fraud else case.name] += 1
        print(f"\nconfusion table at {stage} (threshold {threshold}):")
        print(f"{'':>10} {'doubtful':>10} {'not':>10}")
        print(f"{'honest':>10} {table[False, True]:>10} {table[False, False]:>10}")
        print(f"{'fraud':>10} {table[True, True]:>10} {table[True, False]:>10}")
        if wrong:
            print("  wrong: " + ", ".join(f"{name} {count}" for name, count in sorted(wrong.items())))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.presence", description=__doc__.split("\n\n")[0])
    parser.add_argument("--honest", type=int, default=300, help="honest visits drawn (default 300)")
    parser.add_argument("--per-fraud", type=int, default=20, help="visits drawn of each fraud (default 20)")
    parser.add_argument("--visits", type=int, default=1000, help="visits timed (default 1000)")
    parser.add_argument("--pairs", type=int, default=50, help="side-by-side and one-carrier visits per noise level")
    parser.add_argument("--threshold", type=int, default=60)
    args = parser.parse_args()
    rules = PresenceRules()

    honest = [honest_case(seed) for seed in range(1, args.honest + 1)]
    frauds = [make(1000 + 37 * k + n) for k, make in enumerate(FRAUDS.values()) for n in range(args.per_fraud)]
    confusion(honest + frauds, args.threshold, rules)

    print(f"\nfrauds flagged by their signal (of {args.per_fraud} each), and their median score:")
    for name in FRAUDS:
        cases = [case for case in frauds if case.name == name]
        results = [assess(case.scene, rules) for case in cases]
        caught = sum(case.expected <= set(result.flagged) for case, result in zip(cases, results, strict=True))
        median = statistics.median(result.score for result in results)
        print(f"  {name:<24} {caught:>3} / {len(cases)}   score {median:>5.1f}")

    print(f"\none carrier of both phones vs two people side by side who never part ({args.pairs} of each):")
    print(f"  {'noise':<9} {'steps':<6} {'honest doubtful':>16} {'carrier doubtful':>17}")
    for noise, variant in NOISE.items():
        for steps in (True, False):
            pair = [tracks.honest(seed, errand=False, steps=steps, **variant) for seed in range(1, args.pairs + 1)]
            carriers = [tracks.one_agent_two_phones(5000 + n, steps=steps, **variant) for n in range(args.pairs)]
            false_alarms = sum(doubtful(assess(visit.scene(), rules).score, args.threshold) for visit in pair)
            caught = sum(doubtful(assess(case.scene, rules).score, args.threshold) for case in carriers)
            print(f"  {noise:<9} {'yes' if steps else 'no':<6} {false_alarms:>16} {caught:>17}")

    raised: Counter[SignalName] = Counter()
    scores = []
    for case in honest:
        result = assess(case.scene, rules)
        raised.update(result.flagged)
        scores.append(result.score)
    print(f"\nhonest visits ({len(honest)}): score min {min(scores)}, median {statistics.median(scores)}")
    print("  flagged signals: " + (", ".join(f"{name} {count}" for name, count in raised.items()) or "none"))

    scenes = list(tracks.scenes(args.visits))
    fixes = [sum(len(fixes) for fixes in scene.tracks.values()) for scene in scenes]
    timed, sorted_ = [], []
    for scene in scenes:
        began = time.perf_counter()
        assess(scene, rules)
        timed.append(time.perf_counter() - began)
        began = time.perf_counter()
        for own in scene.tracks.values():
            sorted(own, key=lambda fix: fix.at.timestamp() - fix.clock_skew_s)
        sorted_.append(time.perf_counter() - began)
    median, peer = statistics.median(timed), statistics.median(sorted_)
    p99 = statistics.quantiles(timed, n=100)[98]
    print(
        f"\nassess on {len(scenes)} visits ({statistics.median(fixes):.0f} fixes median): "
        f"median {median * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, all {sum(timed):.2f} s; "
        f"sorting the fixes alone {peer * 1000:.3f} ms (x{median / peer:.0f})"
    )


if __name__ == "__main__":
    main()
