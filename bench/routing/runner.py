"""Each solve in a fresh process (spawn): memory and CPU are the solve's own, and a crash costs a row, not the run."""

import multiprocessing
import resource
from dataclasses import dataclass
from time import perf_counter

from bench.routing.branch_day import BranchDay
from bench.routing.competitors import COMPETITORS, CustomerRoutes, solve_library
from bench.routing.instances import VrptwInstance, to_instance
from routing.plan import Plan


@dataclass(frozen=True, slots=True)
class SolveTask:
    """One solver on one instance: a VRPTW file's content, or a generated branch day (library only)."""

    solver: str
    source: VrptwInstance | BranchDay
    time_limit_s: float
    seed: int


@dataclass(frozen=True, slots=True)
class SolveOutcome:
    """What came back: the library's Plan or a competitor's routes, the solve's wall time and the process's peak
    resident memory; or the error that stopped it."""

    result: Plan | CustomerRoutes | None
    wall_s: float
    peak_mib: float
    error: str | None = None


def _peak_mib() -> float:
    """This process's peak plus, as an upper bound, two of its largest worker: `routing.solve` runs two engine
    processes at once (competitors have no workers, so that term is 0). Linux reports KiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + 2 * workers) / 1024


def _solve(task: SolveTask) -> tuple[Plan | CustomerRoutes, float]:
    if task.solver == "library":
        instance = task.source.build() if isinstance(task.source, BranchDay) else to_instance(task.source)
        started = perf_counter()
        plan = solve_library(instance, task.time_limit_s, task.seed)
        return plan, perf_counter() - started
    if isinstance(task.source, BranchDay):
        raise ValueError(f"{task.solver} runs only on VRPTW instances")
    started = perf_counter()
    routes = COMPETITORS[task.solver](task.source, task.time_limit_s, task.seed)
    return routes, perf_counter() - started


def _child(task: SolveTask, sender: "multiprocessing.connection.Connection") -> None:
    started = perf_counter()
    try:
        result, wall_s = _solve(task)
        sender.send(SolveOutcome(result, wall_s, _peak_mib()))
    except Exception as error:  # any solver failure becomes the row's note
        sender.send(SolveOutcome(None, perf_counter() - started, _peak_mib(), f"{type(error).__name__}: {error}"))
    finally:
        sender.close()


def run_isolated(task: SolveTask, timeout_s: float) -> SolveOutcome:
    """Run `task` in a fresh spawned process; a crash or a run past `timeout_s` comes back as an error outcome."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    # not a daemon: routing.solve starts engine processes of its own
    process = context.Process(target=_child, args=(task, sender))
    started = perf_counter()
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            process.kill()
            return SolveOutcome(None, perf_counter() - started, float("nan"), f"killed after {timeout_s:.0f} s")
        outcome: SolveOutcome = receiver.recv()
    except EOFError:
        process.join()
        return SolveOutcome(None, perf_counter() - started, float("nan"), f"crashed (exit code {process.exitcode})")
    finally:
        receiver.close()
    process.join()
    return outcome
