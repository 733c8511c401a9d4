"""The driver's work grows with stages, not tasks: planning and resuming 100,000 tasks list each
stage's markers once, and a finished stage's stats are one file."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter

import fsspec
import pytest

from cc_cleaner.jobs.report import load_stage_stats
from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.runner import write_summary
from cc_cleaner.pipeline.stats import PartStats
from cc_cleaner.pipeline.store import Store


class Counted:
    """Wraps a filesystem and counts the calls made through it."""

    def __init__(self, fs: fsspec.AbstractFileSystem) -> None:
        self.fs, self.calls = fs, Counter()

    def __getattr__(self, name: str):
        attr = getattr(self.fs, name)
        if callable(attr):
            def call(*a, **k):
                self.calls[name] += 1
                return attr(*a, **k)
            return call
        return attr


class FakeTask:
    def __init__(self, stage: str, i: int) -> None:
        self.task_id = f"t{i:06d}"
        self.marker = layout.task_marker(stage, "map", self.task_id)


@pytest.mark.parametrize("where", ["memory", "local"])
def test_planning_and_resume_of_100k_tasks_list_once_per_stage(where: str, tmp_path):
    """A fresh run and a resume after half the tasks finished, on an in-memory and a local-disk
    fsspec store: each finds its finished tasks with one listing, whatever their number."""
    store = Store(f"memory://drv-{uuid.uuid4().hex[:8]}" if where == "memory" else str(tmp_path / "out"))
    tasks = [FakeTask("s", i) for i in range(100_000)]
    real = store.fs
    for finished in (0, 50_000):
        if finished:
            real.makedirs(store.path(tasks[0].marker).rsplit("/", 1)[0], exist_ok=True)
        for t in tasks[:2 * finished:2]:  # every other task was done before the crash
            real.pipe_file(store.path(t.marker), b"")
        counted = Counted(real)
        store.fs = counted
        t0 = time.perf_counter()
        done = layout.done_markers(store, "s")
        todo = [t for t in tasks if t.marker not in done]
        secs = time.perf_counter() - t0
        store.fs = real
        assert len(todo) == 100_000 - finished
        assert counted.calls["find"] == (1 if finished else 0) and sum(counted.calls.values()) <= 2, counted.calls
        assert secs < 10


def test_a_finished_stage_is_one_stats_file():
    store = Store(f"memory://drv-{uuid.uuid4().hex[:8]}")
    for i in range(300):
        st = PartStats("s", f"t{i}", 0, docs_in=10, docs_out=7)
        store.write_text(layout.stats_file("s", layout.part_name(f"t{i}", 0)), st.to_json())
    write_summary(store, "s")
    store.write_text(layout.success_file("s"), "")
    counted = Counted(store.fs)
    store.fs = counted
    merged = load_stage_stats(store, "s")
    assert merged["docs_in"] == 3000 and merged["docs_out"] == 2100 and merged["parts"] == 300
    assert counted.calls["open"] <= 1 and counted.calls["ls"] == 0  # the summary, not 300 parts
    # Unfinished: the parts are read (and say so).
    store.fs = counted.fs
    store.remove(layout.success_file("s"))
    partial = load_stage_stats(store, "s")
    assert not partial["finished"] and partial["docs_in"] == 3000
    assert json.loads(store.read_text(layout.summary_file("s")))["parts"] == 300
