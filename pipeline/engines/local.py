"""The local engine: a process pool that survives killed workers.

``ProcessPoolExecutor`` fails every pending future with ``BrokenProcessPool`` when one worker
dies and retries nothing; this engine rebuilds the pool and resubmits the unfinished tasks.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from cc_cleaner.pipeline.engines import TaskFailed, describe


class LocalEngine:
    name = "local"

    def __init__(self, workers: int | None = None, max_attempts: int = 3) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.max_attempts = max_attempts
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: forking a parent that already runs Arrow's thread pools can deadlock.
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"))
        return self._pool

    def _reset_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def run(self, tasks: Sequence[Any], fn: Callable[[Any], Any],
            on_done: Callable[[Any, Any], None] | None = None) -> list[Any]:
        results: dict[int, Any] = {}
        attempts = dict.fromkeys(range(len(tasks)), 0)
        todo = list(range(len(tasks)))
        while todo:
            pool = self._get_pool()
            futures: dict[Future, int] = {}
            for i in todo:
                attempts[i] += 1
                futures[pool.submit(fn, tasks[i])] = i
            todo = []
            broken = False
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = futures[fut]
                    try:
                        results[i] = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        self._retry_or_fail(i, attempts, todo, tasks, "a worker process died")
                        continue
                    except Exception as e:
                        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
                        self._retry_or_fail(i, attempts, todo, tasks, detail, e)
                        continue
                    if on_done is not None:
                        on_done(tasks[i], results[i])
            if broken:
                self._reset_pool()
        return [results[i] for i in range(len(tasks))]

    def _retry_or_fail(self, i: int, attempts: dict[int, int], todo: list[int], tasks: Sequence[Any],
                       detail: str, exc: BaseException | None = None) -> None:
        if attempts[i] >= self.max_attempts:
            self._reset_pool()
            raise TaskFailed(f"{describe(tasks[i])} failed {attempts[i]} attempts: {detail}") from exc
        todo.append(i)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
