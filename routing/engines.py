"""Engine processes, kept warm between solves. Spawning one and importing the engines takes a second or more of a
solve's limit on a busy machine, so a process that handed its plan back waits, idle, for the next solve (at most
`IDLE_MAX` of them); one that overran or was stopped is killed. Every engine process is started from one
long-lived thread of this process, so that the kernel kills it when this process ends however it ends
(`routing.children.die_with_parent` ties a child to the thread that started it)."""

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from routing.children import die_with_parent

IDLE_MAX = 2
LEAST_S = 0.2  # an engine gets at least this long, even when its process started after the deadline


@dataclass(slots=True)
class EngineProcess:
    process: BaseProcess
    connection: Connection  # this process's end of a duplex pipe

    def close(self) -> None:
        self.connection.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


class _Engines:
    def __init__(self) -> None:
        self._idle: list[EngineProcess] = []
        self._lock = threading.Lock()
        self._starts: queue.SimpleQueue[Future[EngineProcess]] = queue.SimpleQueue()
        self._starter: threading.Thread | None = None
        self.busy = 0

    def take(self) -> EngineProcess:
        """An idle engine process, or a new one."""
        with self._lock:
            self.busy += 1
            while self._idle:
                idle = self._idle.pop()
                if idle.process.is_alive():
                    return idle
                idle.close()
            if self._starter is None or not self._starter.is_alive():
                self._starter = threading.Thread(target=self._start_each, name="engine starter", daemon=True)
                self._starter.start()
        started: Future[EngineProcess] = Future()
        self._starts.put(started)
        try:
            return started.result()
        except BaseException:
            with self._lock:
                self.busy -= 1
            raise

    def done(self, engine: EngineProcess, answered: bool) -> None:
        """Back to the idle ones if it answered (and there is room), else stopped."""
        with self._lock:
            self.busy -= 1
            if answered and engine.process.is_alive() and len(self._idle) < IDLE_MAX:
                self._idle.append(engine)
                return
        engine.close()

    def _start_each(self) -> None:
        context = get_context("spawn")
        while True:
            started = self._starts.get()
            try:
                mine, theirs = context.Pipe()
                process = context.Process(target=_serve, args=(theirs,), daemon=True, name="engine")
                process.start()
                theirs.close()
                started.set_result(EngineProcess(process, mine))
            except BaseException as error:
                started.set_exception(error)


engines = _Engines()


def _serve(connection: Connection) -> None:
    """An engine process: run each engine it is sent for what is left until its `finish_by` (`time.monotonic()`,
    one clock for every process of the machine) and send back the plan, or the error it raised."""
    die_with_parent()
    while True:
        try:
            engine, instance, finish_by = connection.recv()
        except EOFError:  # its parent closed the pipe: nothing more to do
            return
        left = max(LEAST_S, finish_by - time.monotonic())
        outcome: Any
        try:
            outcome = engine(instance, time_limit=timedelta(seconds=left))
        except Exception as error:  # raised again in the caller's process
            outcome = error
        connection.send(outcome)
