"""The Ray engine: each task is a Ray task with retries and per-task CPU/memory resources.

Connects to ``address`` ("auto", "ray://head:10001", a GCS address), or starts a local
instance with ``workers`` CPUs. A killed worker is retried by Ray (``max_retries``); an
exception is retried too (``retry_exceptions``), then the job stops naming the task's input.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from cc_cleaner.pipeline.engines import Resources, TaskFailed, describe, export_sys_path


def _call(fn: Callable[[Any], Any], task: Any) -> Any:
    return fn(task)


class RayEngine:
    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None, max_attempts: int = 3) -> None:
        import ray

        self._owned = False
        if not ray.is_initialized():
            if address in (None, "local"):
                export_sys_path()
                ray.init(address="local", num_cpus=workers or os.cpu_count(), include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
            else:
                ray.init(address=address, log_to_driver=False)
            self._owned = True
        self.workers = int(ray.cluster_resources().get("CPU", 1))
        self.where = f"address {address}" if address not in (None, "local") else "a local instance"
        self.max_attempts = max_attempts
        self._remote = ray.remote(num_cpus=1, max_retries=max_attempts - 1, retry_exceptions=True)(_call)

    def run(self, tasks: Sequence[Any], fn: Callable[[Any], Any],
            on_done: Callable[[Any, Any], None] | None = None, resources: Resources | None = None) -> list[Any]:
        import ray

        remote = self._remote
        if resources is not None:
            opts: dict[str, Any] = {"num_cpus": resources.cpus}
            if resources.memory_gb:
                opts["memory"] = int(resources.memory_gb * 2**30)
            remote = remote.options(**opts)
        # At most a few tasks per CPU submitted at once: the driver holds (and Ray schedules) a
        # bounded window, not a whole phase of 100,000 tasks.
        window = max(4, 4 * self.workers)
        queue = iter(enumerate(tasks))
        pending: dict[Any, int] = {}

        def fill() -> None:
            while len(pending) < window:
                nxt = next(queue, None)
                if nxt is None:
                    return
                pending[remote.remote(fn, nxt[1])] = nxt[0]

        fill()
        results: dict[int, Any] = {}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                i = pending.pop(ref)
                try:
                    results[i] = ray.get(ref)
                except Exception as e:  # RayTaskError (also the original type) or a lost worker
                    for other in pending:
                        ray.cancel(other, force=True)
                    cause = getattr(e, "cause", None) or e
                    raise TaskFailed(f"{describe(tasks[i])} failed {self.max_attempts} attempts: "
                                     f"{type(cause).__name__}: {str(cause).splitlines()[-1] if str(cause) else ''}"
                                     ) from e
                if on_done is not None:
                    on_done(tasks[i], results[i])
            fill()
        return [results[i] for i in range(len(tasks))]

    def close(self) -> None:
        import ray

        if self._owned and ray.is_initialized():
            ray.shutdown()
