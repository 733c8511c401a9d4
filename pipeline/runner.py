"""The job runner: plans each stage's tasks, skips finished ones, hands the rest to an engine."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.guard import OutputError, claim_output, release_output
from cc_cleaner.pipeline.map_stage import StepSetupError
from cc_cleaner.pipeline.stages import kind_of
from cc_cleaner.pipeline.stats import merge
from cc_cleaner.pipeline.store import Store

if TYPE_CHECKING:
    from cc_cleaner.pipeline.engines import Engine
    from cc_cleaner.pipeline.job import Job

__all__ = ["JobReport", "JobStateError", "OutputError", "StageReport", "StepSetupError", "run_job"]


class JobStateError(RuntimeError):
    """The output folder holds a run that does not match this job (a changed stage config)."""


@dataclass
class StageReport:
    name: str
    tasks: int
    ran: int
    skipped: bool = False
    docs_in: int = 0
    docs_out: int = 0
    seconds: float = 0.0


@dataclass
class JobReport:
    stages: list[StageReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the run decided for the user (a stale lock, --force)


def check_stage_hashes(job: Job, store: Store, restart_index: int | None) -> None:
    for i, stage in enumerate(job.spec.stages):
        if restart_index is not None and i >= restart_index:
            break
        rel = layout.config_hash_file(stage.name)
        # A stage that finished no part yet has nothing to protect: its config may change freely.
        if store.exists(rel) and layout.done_markers(store, stage.name):
            old = store.read_text(rel).strip()
            if old != job.stage_hash(i):
                raise JobStateError(
                    f"stage {stage.name!r} changed since it ran in {job.output} "
                    f"(config hash {old} -> {job.stage_hash(i)}); "
                    f"re-run it and the stages after it with --restart-from {stage.name}")


def execute(task: Any) -> Any:
    """What an engine runs: every task kind is a picklable object with ``run()``."""
    return task.run()


def run_job(job: Job, engine: Engine, restart_from: str | None = None, progress: bool = True,
            force: bool = False, claimed: tuple[str, list[str]] | None = None) -> JobReport:
    """Run (or resume) every stage. ``claimed``: the output folder's lock, when the caller took it
    (``pipeline.guard.claim_output``) before starting the engine; it is released at the end."""
    store = Store(job.output)
    names = [s.name for s in job.spec.stages]
    restart_index = None
    if restart_from is not None:
        if restart_from not in names:
            raise ValueError(f"--restart-from {restart_from!r}: no such stage (stages: {', '.join(names)})")
        restart_index = names.index(restart_from)
    token, notes = claimed or claim_output(store, job.spec.name, force)
    try:
        check_stage_hashes(job, store, restart_index)
        if restart_index is not None:
            for name in names[restart_index:]:
                store.remove(name)
                store.remove(layout.state_dir(name))
        store.write_text(layout.JOB_FILE, job.to_yaml())
        report = JobReport(notes=notes)
        for i in range(len(job.spec.stages)):
            report.stages.append(run_stage(job, store, engine, i, progress))
        return report
    finally:
        release_output(store, token)


def run_stage(job: Job, store: Store, engine: Engine, index: int, progress: bool) -> StageReport:
    stage = job.spec.stages[index]
    if store.exists(layout.success_file(stage.name)):
        phases = json.loads(store.read_text(layout.phases_file(stage.name)))
        return StageReport(stage.name, sum(len(p["tasks"]) for p in phases), 0, skipped=True)
    rep = StageReport(stage.name, 0, 0)
    t0 = time.perf_counter()
    recorded: list[dict[str, Any]] = []
    store.clean_temp(stage.name)
    kind = kind_of(stage)
    if index == 0 and not kind.first:
        raise ValueError(f"stage {stage.name!r} ({kind.name}) needs a stage before it")
    wall: dict[str, float] = json.loads(store.read_text(layout.wall_file(stage.name))) \
        if store.exists(layout.wall_file(stage.name)) else {}  # earlier runs' time on this stage
    in_phases = 0.0
    for phase, planner in kind.phases(job, store, index):
        t_phase = time.perf_counter()
        tasks = planner()
        if not recorded:  # the stage's config is recorded once its first phase could be planned
            store.write_text(layout.config_hash_file(stage.name), job.stage_hash(index))
        recorded.append({"phase": phase, "tasks": [t.marker for t in tasks]})
        store.write_text(layout.phases_file(stage.name), json.dumps(recorded, indent=0))
        done = layout.done_markers(store, stage.name)  # one listing per phase, whatever the task count
        todo = [t for t in tasks if t.marker not in done]
        rep.tasks += len(tasks)
        rep.ran += len(todo)
        label = stage.name if phase == "map" else f"{stage.name}:{phase}"
        watch = PartWatch(store, stage.name, tasks, todo, label, progress and bool(todo), by_input=phase == "map")

        def on_done(task: Any, res: dict[str, int], watch: PartWatch = watch) -> None:
            rep.docs_in += res.get("docs_in", 0)
            rep.docs_out += res.get("docs_out", 0)
            watch.task_done(task)

        try:
            engine.run(todo, execute, on_done, stage.resources)
        finally:
            watch.close()
            spent = time.perf_counter() - t_phase  # planning, tasks, waiting
            wall[phase] = wall.get(phase, 0.0) + spent
            in_phases += spent
            store.write_text(layout.wall_file(stage.name), json.dumps(wall))
    # What is not a phase's: the stage's setup (reading upstream listings, loading what planning needs).
    wall["setup"] = wall.get("setup", 0.0) + time.perf_counter() - t0 - in_phases
    rep.seconds = time.perf_counter() - t0
    write_summary(store, stage.name, wall)
    store.write_text(layout.success_file(stage.name), "")
    return rep


def write_summary(store: Store, stage: str, wall: dict[str, float] | None = None) -> None:
    """The stage's merged stats, once: ``stats`` then reads one file per finished stage. ``wall``:
    the wall seconds of each phase (planning, scheduling and setup included, unlike the
    per-part step seconds, which are time inside the steps summed over workers)."""
    parts = [json.loads(store.read_text(rel)) for rel in store.list(layout.stats_dir(stage), ".json")]
    merged = merge(parts)
    if wall is not None:
        merged["wall_seconds"], merged["phase_seconds"] = sum(wall.values()), wall
    store.write_text(layout.summary_file(stage), json.dumps(merged))


class PartWatch:
    """A stage's progress bar, moved part by part: it reads the stats each finished part writes
    (whatever engine or machine wrote it). For map stages the bar is the share of the input read,
    weighted by input file size, so it shows an ETA; other phases count tasks."""

    def __init__(self, store: Store, stage: str, tasks: list[Any], todo: list[Any], label: str, show: bool,
                 by_input: bool = False) -> None:
        self.store, self.stage, self.t0 = store, stage, time.perf_counter()
        self.sizes = _input_sizes(store, tasks) if show and by_input else {}
        waiting = {t.marker for t in todo}
        self.done_tasks = {getattr(t, "task_id", t.marker) for t in tasks if t.marker not in waiting}
        self.total_tasks = len(tasks)
        self.seen: dict[str, tuple[str, int, float | None]] = {}
        self.stop = threading.Event()
        self.bar = tqdm(total=100 if self.sizes else len(tasks), initial=0 if self.sizes else len(self.done_tasks),
                        desc=label, disable=not show, file=sys.stderr,
                        dynamic_ncols=True, unit="%" if self.sizes else "task",
                        bar_format="{l_bar}{bar}| {n:.0f}/{total} [{elapsed}<{remaining}{postfix}]")
        self.thread = threading.Thread(target=self._loop, daemon=True) if show else None
        if self.thread:
            self.thread.start()

    def task_done(self, task: Any) -> None:
        self.done_tasks.add(getattr(task, "task_id", task.marker))
        if not self.sizes:
            self.bar.update(1)

    def _loop(self) -> None:
        interval = 0.5 if self.store.is_local else 2.0
        while not self.stop.wait(interval):
            self.refresh()

    def refresh(self) -> None:
        try:
            for rel in self.store.list(layout.stats_dir(self.stage), ".json"):
                if rel not in self.seen:
                    d = json.loads(self.store.read_text(rel))
                    self.seen[rel] = (d.get("task", ""), int(d.get("docs_in", 0)), d.get("position"))
        except (OSError, ValueError):
            return  # a file mid-rename or a listing that failed: try again next time
        docs = sum(v[1] for v in self.seen.values())
        rate = docs / max(1e-9, time.perf_counter() - self.t0)
        if self.sizes:
            pos: dict[str, float] = {}
            for task, _, p in self.seen.values():
                pos[task] = max(pos.get(task, 0.0), p or 0.0)
            for t in self.done_tasks:
                pos[t] = 1.0
            total = sum(self.sizes.values()) or 1
            self.bar.n = min(100.0, 100 * sum(w * pos.get(t, 0.0) for t, w in self.sizes.items()) / total)
        self.bar.set_postfix_str(f"parts {len(self.seen)}, docs {docs:,}, {rate:,.0f} docs/s, "
                                 f"tasks {len(self.done_tasks)}/{self.total_tasks}")

    def close(self) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join()
            self.refresh()
        self.bar.close()


def _input_sizes(store: Store, tasks: list[Any]) -> dict[str, float]:
    """Bytes of each task's input files (equal weights where a size cannot be had)."""
    out = {}
    for t in tasks:
        try:
            out[t.task_id] = float(sum(store.fs.size(p) or 0 for p in t.inputs)) or 1.0
        except (OSError, ValueError):
            out[t.task_id] = 1.0
    return out
