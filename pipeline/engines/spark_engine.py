"""The Spark engine: each task runs as one Spark task (one partition per task).

Uses the active SparkSession when there is one (under ``spark-submit``), else starts
``master`` (default ``local[N,F]``: N cores and F attempts, since plain ``local[N]`` never
retries). Workers run ``PYSPARK_PYTHON``, set to this interpreter unless already set.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from cc_cleaner.pipeline.engines import Resources, TaskFailed, describe, export_sys_path


class TaskError(RuntimeError):
    pass


def _run_one(fn: Callable[[Any], Any], item: tuple[int, Any]) -> tuple[int, Any]:
    i, task = item
    try:
        return i, fn(task)
    except Exception as e:  # Spark loses the exception type: keep the task and the cause in the text
        raise TaskError(f"[task {i}] {describe(task)}: {type(e).__name__}: {e}") from e


def _submitted() -> bool:
    """Under spark-submit (the driver talks to the JVM spark-submit started), that JVM already holds
    the master given by ``--master``: keep it."""
    return bool(os.environ.get("PYSPARK_GATEWAY_PORT"))


class SparkEngine:
    name = "spark"

    def __init__(self, workers: int | None = None, master: str | None = None, max_attempts: int = 3) -> None:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        self._owned = active is None
        if active is not None and master is None:
            self.spark = active
        else:
            if active is not None:
                active.stop()
            export_sys_path()
            n = workers or os.cpu_count() or 1
            builder = SparkSession.builder
            if master is not None or not _submitted():
                builder = builder.master(master or f"local[{n},{max_attempts}]")
            self.spark = (builder.appName("cc-cleaner")
                          .config("spark.ui.enabled", "false")
                          .config("spark.task.maxFailures", str(max_attempts))
                          .config("spark.python.worker.reuse", "true")
                          .getOrCreate())
            self.spark.sparkContext.setLogLevel("ERROR")
        self.workers = self.spark.sparkContext.defaultParallelism
        self.where = f"master {self.spark.sparkContext.master}"
        self.max_attempts = max_attempts

    def run(self, tasks: Sequence[Any], fn: Callable[[Any], Any],
            on_done: Callable[[Any, Any], None] | None = None, resources: Resources | None = None) -> list[Any]:
        if not tasks:
            return []
        sc = self.spark.sparkContext
        rdd = sc.parallelize(list(enumerate(tasks)), numSlices=len(tasks))
        if resources is not None and resources.cpus != 1 and not sc.master.startswith("local"):
            # Task resource profiles: standalone, YARN and Kubernetes (dynamic allocation off).
            from pyspark.resource import ResourceProfileBuilder, TaskResourceRequests

            cpus = max(1, round(resources.cpus))
            rdd = rdd.withResources(ResourceProfileBuilder().require(TaskResourceRequests().cpus(cpus)).build)
        results: dict[int, Any] = {}
        try:
            for i, res in rdd.map(lambda item: _run_one(fn, item)).toLocalIterator(prefetchPartitions=True):
                results[i] = res
                if on_done is not None:
                    on_done(tasks[i], res)
        except Exception as e:
            text = str(e)
            marker = next((ln for ln in text.splitlines() if "TaskError: [task" in ln), None)
            detail = marker.split("TaskError: ", 1)[1] if marker else text.strip().splitlines()[0][:500]
            raise TaskFailed(f"{detail} (after {self.max_attempts} attempts)") from None
        return [results[i] for i in range(len(tasks))]

    def close(self) -> None:
        if self._owned:
            self.spark.stop()
