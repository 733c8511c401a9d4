"""Engines only schedule tasks: each task is a pure, idempotent function of its inputs."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class Resources(BaseModel):
    """What one task of a stage needs (a stage's ``resources:``). Ray reserves both; the local
    engine runs fewer tasks at once to fit them; Spark honours ``cpus`` on clusters (task
    resource profiles) and takes memory from its executor settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpus: float = Field(default=1.0, gt=0)
    memory_gb: float | None = Field(default=None, gt=0)


class TaskFailed(RuntimeError):
    """A task failed all its attempts; the message names the task and its input."""


class Engine(Protocol):
    name: str
    workers: int
    where: str  # the cluster or master it runs on, for the user ("" for the local engine)

    def run(self, tasks: Sequence[Any], fn: Callable[[Any], Any],
            on_done: Callable[[Any, Any], None] | None = None, resources: Resources | None = None) -> list[Any]:
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


def export_sys_path() -> None:
    """Give worker processes this interpreter's import path (PYTHONPATH), so that a local Ray or
    Spark instance started from here can import what the driver can, a user's steps included."""
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    old = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(old + paths))


def describe(task: Any) -> str:
    return task.describe() if hasattr(task, "describe") else repr(task)
