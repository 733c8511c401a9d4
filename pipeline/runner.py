"""The job runner: plans each stage's tasks, skips finished ones, hands the rest to an engine."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from tqdm import tqdm

from cc_cleaner.pipeline.readers import expand_paths
from cc_cleaner.pipeline.schema import make_doc_id
from cc_cleaner.pipeline.step import StepContext, get_step
from cc_cleaner.pipeline.store import Store
from cc_cleaner.pipeline.task import MapTask

if TYPE_CHECKING:
    from cc_cleaner.jobs.spec import Job
    from cc_cleaner.pipeline.engines import Engine

_PART_SUFFIX = re.compile(r"-p\d{5}\.parquet$")


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


def state_dir(stage: str) -> str:
    return f"_state/{stage}"


def task_id_for(path: str) -> str:
    base = path.rstrip("/").rsplit("/", 1)[-1]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", base.split(".")[0])[:40] or "input"
    return f"{slug}-{make_doc_id(path)[:8]}"


def check_stage_hashes(job: Job, store: Store, restart_index: int | None) -> None:
    for i, stage in enumerate(job.spec.stages):
        if restart_index is not None and i >= restart_index:
            break
        rel = f"{state_dir(stage.name)}/config_hash"
        # A stage that finished no part yet has nothing to protect: its config may change freely.
        if store.exists(rel) and store.fs.glob(store.path(state_dir(stage.name), "**", "*.done")):
            old = store.read_text(rel).strip()
            if old != job.stage_hash(i):
                raise JobStateError(
                    f"stage {stage.name!r} changed since it ran in {job.output} "
                    f"(config hash {old} -> {job.stage_hash(i)}); "
                    f"re-run it and the stages after it with --restart-from {stage.name}")


def upstream_groups(store: Store, stage: str) -> dict[str, list[str]]:
    """A finished stage's data files grouped by the task that wrote them, in part order."""
    groups: dict[str, list[str]] = {}
    for rel in store.list(f"{stage}/data", ".parquet"):
        tid = _PART_SUFFIX.sub("", rel.rsplit("/", 1)[-1])
        groups.setdefault(tid, []).append(store.path(rel))
    return dict(sorted(groups.items()))


def plan_stage(job: Job, store: Store, index: int) -> list[MapTask]:
    spec = job.spec
    stage = spec.stages[index]
    steps = tuple((name, cfg) for item in stage.steps for name, cfg in item.items())
    ctx = StepContext(seed=spec.seed, stage=stage.name, base_dir=job.base_dir)
    common: dict[str, Any] = {"output": job.output, "stage": stage.name, "source": spec.input.source or spec.name,
                              "steps": steps, "ctx": ctx, "part_records": stage.part_records,
                              "redact_rejected": spec.redact_rejected}
    if index == 0:
        paths = expand_paths(list(spec.input.paths))
        if not paths:
            raise FileNotFoundError(f"input.paths matched no files: {', '.join(spec.input.paths)}")
        return [MapTask(task_id=task_id_for(p), inputs=(p,), input_cfg=spec.input, **common) for p in paths]
    groups = upstream_groups(store, spec.stages[index - 1].name)
    return [MapTask(task_id=tid, inputs=tuple(files), input_cfg=None, **common) for tid, files in groups.items()]


Planner = Callable[[], list[Any]]


def stage_phases(job: Job, store: Store, index: int) -> list[tuple[str, Planner]]:
    """A stage's phases in order; each phase's tasks are planned once the phase before it is done."""
    stage = job.spec.stages[index]
    if stage.kind == "map":
        def plan() -> list[Any]:
            tasks = plan_stage(job, store, index)
            if tasks:
                preflight(tasks[0])
            return tasks
        return [("map", plan)]
    if index == 0:
        raise ValueError(f"stage {stage.name!r} ({stage.kind}) needs a stage before it")
    if stage.kind == "tokenize":
        from cc_cleaner.pipeline.tokenize import tokenize_phases

        return tokenize_phases(job, store, index)
    if stage.kind == "dedup_docs":
        from cc_cleaner.dedup.docs import dedup_docs_phases

        return dedup_docs_phases(job, store, index)
    if stage.kind == "dedup_strings":
        from cc_cleaner.dedup.strings import dedup_strings_phases

        return dedup_strings_phases(job, store, index)
    raise ValueError(f"stage {stage.name!r}: unknown kind {stage.kind!r}")


def execute(task: Any) -> Any:
    """What an engine runs: every task kind is a picklable object with ``run()``."""
    return task.run()


class StepSetupError(RuntimeError):
    """A step cannot start (missing file, bad model); found in the driver before any task runs."""


def preflight(task: MapTask) -> None:
    for name, cfg in task.steps:
        try:
            get_step(name, cfg, task.ctx)
        except Exception as e:
            raise StepSetupError(f"stage {task.stage!r} step {name!r} cannot start: {type(e).__name__}: {e}") from e


def run_job(job: Job, engine: Engine, restart_from: str | None = None, progress: bool = True) -> JobReport:
    store = Store(job.output)
    names = [s.name for s in job.spec.stages]
    restart_index = None
    if restart_from is not None:
        if restart_from not in names:
            raise ValueError(f"--restart-from {restart_from!r}: no such stage (stages: {', '.join(names)})")
        restart_index = names.index(restart_from)
    check_stage_hashes(job, store, restart_index)
    if restart_index is not None:
        for name in names[restart_index:]:
            store.remove(name)
            store.remove(state_dir(name))
    store.write_text("job.yaml", yaml.safe_dump(job.spec.model_dump(mode="json"), sort_keys=False,
                                                allow_unicode=True))
    report = JobReport()
    for i in range(len(job.spec.stages)):
        report.stages.append(run_stage(job, store, engine, i, progress))
    return report


def run_stage(job: Job, store: Store, engine: Engine, index: int, progress: bool) -> StageReport:
    stage = job.spec.stages[index]
    sdir = state_dir(stage.name)
    if store.exists(f"{sdir}/_SUCCESS"):
        phases = json.loads(store.read_text(f"{sdir}/phases.json"))
        return StageReport(stage.name, sum(len(p["tasks"]) for p in phases), 0, skipped=True)
    rep = StageReport(stage.name, 0, 0)
    t0 = time.perf_counter()
    recorded: list[dict[str, Any]] = []
    store.clean_temp(stage.name)
    for phase, planner in stage_phases(job, store, index):
        tasks = planner()
        if not recorded:  # the stage's config is recorded once its first phase could be planned
            store.write_text(f"{sdir}/config_hash", job.stage_hash(index))
        recorded.append({"phase": phase, "tasks": [t.marker for t in tasks]})
        store.write_text(f"{sdir}/phases.json", json.dumps(recorded, indent=0))
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
    store.write_text(f"{sdir}/_SUCCESS", "")
    return rep
