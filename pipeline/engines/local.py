"""The local engine: a process pool that survives killed workers.

``ProcessPoolExecutor`` fails every pending future with ``BrokenProcessPool`` when one worker
dies and retries nothing. This engine keeps at most ``workers`` tasks in flight; when the pool
breaks, the tasks that were in flight become suspects and run again one at a time, so only a
task that kills its worker on its own is charged an attempt.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import traceback
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from cc_cleaner.pipeline.engines import Resources, TaskFailed, describe


def _ignore_sigint() -> None:
    """Ctrl-C reaches the whole process group: the driver stops the pool; workers stay quiet."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalEngine:
    name = "local"

    def __init__(self, workers: int | None = None, max_attempts: int = 3) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.where = ""
        self.max_attempts = max_attempts
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: forking a parent that already runs Arrow's thread pools can deadlock.
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                             initializer=_ignore_sigint)
        return self._pool

    def _reset_pool(self, kill: bool = False) -> None:
        """Drop the pool; ``kill`` stops workers still running tasks (the job is failing)."""
        if self._pool is None:
            return
        if kill:
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None

    def slots(self, resources: Resources | None) -> int:
        """Tasks at once: the workers divided by each task's CPUs, and no more than fit in memory."""
        if resources is None:
            return self.workers
        n = int(self.workers // resources.cpus)
        if resources.memory_gb:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
            n = min(n, int(total // resources.memory_gb))
        return max(1, n)

    def run(self, tasks: Sequence[Any], fn: Callable[[Any], Any],
            on_done: Callable[[Any, Any], None] | None = None, resources: Resources | None = None) -> list[Any]:
        slots = self.slots(resources)
        results: dict[int, Any] = {}
        attempts: Counter[int] = Counter()
        queue: deque[int] = deque(range(len(tasks)))
        suspects: deque[int] = deque()
        try:
            while queue or suspects:
                solo = bool(suspects)
                batch = suspects if solo else queue
                inflight: dict[Future, int] = {}
                broken = False
                while (batch or inflight) and not broken:
                    while batch and len(inflight) < (1 if solo else slots):
                        i = batch.popleft()
                        try:
                            inflight[self._get_pool().submit(fn, tasks[i])] = i
                        except BrokenProcessPool:  # a worker died between two submissions
                            batch.appendleft(i)  # never started: not a suspect
                            broken = True
                            break
                    if broken:
                        break
                    done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                    for fut in done:
                        i = inflight.pop(fut)
                        try:
                            results[i] = fut.result()
                        except BrokenProcessPool:
                            broken = True
                            if solo:
                                self._charge(i, attempts, tasks, "its worker process died")
                            suspects.append(i)
                            continue
                        except Exception as e:
                            detail = "".join(traceback.format_exception_only(type(e), e)).strip()
                            self._charge(i, attempts, tasks, detail, e)
                            queue.append(i)
                            continue
                        if on_done is not None:
                            on_done(tasks[i], results[i])
                    if solo and not batch and not broken:
                        break
                if broken:
                    suspects.extend(inflight.values())
                    self._reset_pool()
        except BaseException:
            self._reset_pool(kill=True)
            raise
        return [results[i] for i in range(len(tasks))]

    def _charge(self, i: int, attempts: Counter[int], tasks: Sequence[Any], detail: str,
                exc: BaseException | None = None) -> None:
        attempts[i] += 1
        if attempts[i] >= self.max_attempts:
            raise TaskFailed(f"{describe(tasks[i])} failed {attempts[i]} attempts: {detail}") from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
