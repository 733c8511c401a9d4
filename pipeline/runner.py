"""The job runner: plans each stage's tasks, skips finished ones, hands the rest to an engine."""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from tqdm import tqdm

from cc_cleaner.pipeline.readers import expand_paths
from cc_cleaner.pipeline.schema import make_doc_id
from cc_cleaner.pipeline.step import StepContext, get_step
from cc_cleaner.pipeline.store import Store
from cc_cleaner.pipeline.task import MapTask, run_map_task, task_marker

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
        if store.exists(rel) and store.fs.glob(store.path(state_dir(stage.name), "parts", "*", "*.done")):
            old = store.read_text(rel).strip()
            if old != job.stage_hash(i):
                raise JobStateError(
                    f"stage {stage.name!r} changed since it ran in {job.output} "
                    f"(config hash {old} -> {job.stage_hash(i)}); "
                    f"re-run it and the stages after it with --restart-from {stage.name}")


def plan_stage(job: Job, store: Store, index: int) -> list[MapTask]:
    spec = job.spec
    stage = spec.stages[index]
    steps = tuple((name, cfg) for item in stage.steps for name, cfg in item.items())
    ctx = StepContext(seed=spec.seed, stage=stage.name, base_dir=job.base_dir)
    common: dict[str, Any] = {"output": job.output, "stage": stage.name, "source": spec.input.source or spec.name,
                              "steps": steps, "ctx": ctx, "part_records": stage.part_records}
    if index == 0:
        paths = expand_paths(list(spec.input.paths))
        if not paths:
            raise FileNotFoundError(f"input.paths matched no files: {', '.join(spec.input.paths)}")
        return [MapTask(task_id=task_id_for(p), inputs=(p,), input_cfg=spec.input, **common) for p in paths]
    prev = spec.stages[index - 1].name
    groups: dict[str, list[str]] = {}
    for rel in store.list(f"{prev}/data", ".parquet"):
        tid = _PART_SUFFIX.sub("", rel.rsplit("/", 1)[-1])
        groups.setdefault(tid, []).append(store.path(rel))
    return [MapTask(task_id=tid, inputs=tuple(files), input_cfg=None, **common)
            for tid, files in sorted(groups.items())]


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
        tasks = json.loads(store.read_text(f"{sdir}/tasks.json"))
        return StageReport(stage.name, len(tasks), 0, skipped=True)
    tasks = plan_stage(job, store, index)
    if tasks:
        preflight(tasks[0])
    store.write_text(f"{sdir}/config_hash", job.stage_hash(index))
    store.write_text(f"{sdir}/tasks.json", json.dumps([t.task_id for t in tasks], indent=0))
    store.clean_temp(stage.name)
    todo = [t for t in tasks if not store.exists(task_marker(stage.name, t.task_id))]
    rep = StageReport(stage.name, len(tasks), len(todo))
    t0 = time.perf_counter()
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=stage.name, unit="task",
               disable=not progress, file=sys.stderr, dynamic_ncols=True)

    def on_done(task: MapTask, res: dict[str, int]) -> None:
        rep.docs_in += res.get("docs_in", 0)
        rep.docs_out += res.get("docs_out", 0)
        bar.update(1)
        bar.set_postfix(docs=rep.docs_in, docs_per_s=f"{rep.docs_in / max(1e-9, time.perf_counter() - t0):.0f}")

    try:
        engine.run(todo, run_map_task, on_done)
    finally:
        bar.close()
    rep.seconds = time.perf_counter() - t0
    store.write_text(f"{sdir}/_SUCCESS", "")
    return rep
