"""Engines only schedule tasks: each task is a pure, idempotent function of its inputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol


class TaskFailed(RuntimeError):
    """A task failed all its attempts; the message names the task and its input."""


class Engine(Protocol):
    name: str
    workers: int

    def run(self, tasks: Sequence[Any], fn: Callable[[Any], Any],
            on_done: Callable[[Any, Any], None] | None = None) -> list[Any]:
        """Run ``fn(task)`` for every task; results in task order. Raises TaskFailed."""
        ...

    def close(self) -> None: ...


def get_engine(name: str, workers: int | None = None, **options: Any) -> Engine:
    if name == "local":
        from cc_cleaner.pipeline.engines.local import LocalEngine

        return LocalEngine(workers, **options)
    if name == "ray":
        from cc_cleaner.pipeline.engines.ray_engine import RayEngine

        return RayEngine(workers, **options)
    if name == "spark":
        from cc_cleaner.pipeline.engines.spark_engine import SparkEngine

        return SparkEngine(workers, **options)
    raise ValueError(f"unknown engine {name!r}; choose local, ray or spark")


def describe(task: Any) -> str:
    return task.describe() if hasattr(task, "describe") else repr(task)
