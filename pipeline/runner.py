"""The job runner: plans each stage's tasks, skips finished ones, hands the rest to an engine."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.guard import OutputError, claim_output, release_output
from cc_cleaner.pipeline.map_stage import StepSetupError
from cc_cleaner.pipeline.stages import kind_of
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
        if store.exists(rel) and store.fs.glob(store.path(layout.state_dir(stage.name), "**", "*.done")):
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
    for phase, planner in kind.phases(job, store, index):
        tasks = planner()
        if not recorded:  # the stage's config is recorded once its first phase could be planned
            store.write_text(layout.config_hash_file(stage.name), job.stage_hash(index))
        recorded.append({"phase": phase, "tasks": [t.marker for t in tasks]})
        store.write_text(layout.phases_file(stage.name), json.dumps(recorded, indent=0))
        todo = [t for t in tasks if not store.exists(t.marker)]
        rep.tasks += len(tasks)
        rep.ran += len(todo)
        label = stage.name if phase == "map" else f"{stage.name}:{phase}"
        bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=label, unit="task",
                   disable=not progress, file=sys.stderr, dynamic_ncols=True)

        def on_done(task: Any, res: dict[str, int], bar: tqdm = bar) -> None:
            rep.docs_in += res.get("docs_in", 0)
            rep.docs_out += res.get("docs_out", 0)
            bar.update(1)
            rate = rep.docs_in / max(1e-9, time.perf_counter() - t0)
            bar.set_postfix(docs=rep.docs_in, docs_per_s=f"{rate:.0f}")

        try:
            engine.run(todo, execute, on_done, stage.resources)
        finally:
            bar.close()
    rep.seconds = time.perf_counter() - t0
    store.write_text(layout.success_file(stage.name), "")
    return rep
