"""The map stage: a chain of steps fused into one pass per input shard, written part by part.

A task's input is cut into *parts* of ``part_records`` input records or ``part_bytes`` bytes of
input (its text and binary fields), whichever comes first, so that a worker's memory follows a
byte budget whatever the page size. Each part's outputs
(data, rejected, errors, stats) are renamed into place and then a part marker is written, so a
killed task resumes at its first unfinished part; the part boundaries depend only on the
input, so a resumed run writes exactly the files of an uninterrupted one.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.decode import utf8_chars
from cc_cleaner.pipeline.documents import make_doc_id
from cc_cleaner.pipeline.engines import Resources
from cc_cleaner.pipeline.readers import (
    InputConfig,
    Position,
    ReadError,
    Skip,
    expand_paths,
    input_splits,
    read_file,
)
from cc_cleaner.pipeline.stages import ColumnError, Phases, StageKind, register_stage_kind
from cc_cleaner.pipeline.stats import PartStats, StepStats, breakdown, doc_bytes
from cc_cleaner.pipeline.step import StepContext, check_step, get_step, step_class
from cc_cleaner.pipeline.store import Store

if TYPE_CHECKING:
    from cc_cleaner.pipeline.job import Job

STAGE_NAME = r"^[a-z0-9][a-z0-9_-]*$"


class MapStageSpec(BaseModel):
    """A chain of steps fused into one pass per input shard."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=STAGE_NAME)
    steps: list[dict[str, Any]] = []  # none: the stage only reads its input into Parquet
    part_records: int = Field(default=2000, gt=0)  # input records per checkpointed part, at most
    part_bytes: int = Field(default=32 << 20, gt=0)  # input bytes per part, at most (one record at least)
    resources: Resources = Resources()

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, steps: Any) -> Any:
        if not isinstance(steps, list):
            return steps
        out = []
        for i, item in enumerate(steps):
            if isinstance(item, str):
                item = {item: {}}
            if not isinstance(item, dict) or len(item) != 1:
                raise ValueError(f"steps.{i}: each step is one mapping 'name: {{config}}'")
            (name, cfg), = item.items()
            try:
                cls_ = step_class(name)
            except KeyError as e:
                raise ValueError(f"steps.{i}: {e.args[0]}") from None
            try:
                model = cls_.Config.model_validate(cfg or {})
            except ValidationError as e:
                lines = [".".join(map(str, (f"steps.{i}.{name}", *err["loc"]))) + ": "
                         + err["msg"].removeprefix("Value error, ") for err in e.errors()]
                raise ValueError("\n".join(lines)) from None
            out.append({name: model.model_dump(mode="json")})
        return out


@dataclass(frozen=True)
class MapTask:
    output: str  # the job's output root (fsspec url)
    stage: str
    task_id: str
    inputs: tuple[str, ...]  # source files (first stage) or upstream data files, read in order
    input_cfg: InputConfig | None  # None: the inputs are Parquet files written by the previous stage
    source: str
    steps: tuple[tuple[str, Any], ...]  # (step name, config dict)
    ctx: StepContext = field(default_factory=StepContext)
    part_records: int = 2000
    part_bytes: int = 32 << 20
    redact_rejected: bool = False
    split: tuple[int, int | None] | None = None  # of a big input file: a byte or row-group range
    index: int = 0  # the task's place in the stage (join phases address their results to it)

    @property
    def marker(self) -> str:
        return layout.task_marker(self.stage, "tasks", self.task_id)

    def run(self) -> dict[str, int]:
        return run_map_task(self)

    def describe(self) -> str:
        shown = ", ".join(self.inputs[:3]) + (" ..." if len(self.inputs) > 3 else "")
        return f"stage {self.stage!r} task {self.task_id} (input: {shown})"


@dataclass
class Part:
    index: int
    tables: list[pa.Table] = field(default_factory=list)
    errors: list[ReadError] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    records: int = 0
    position: float | None = None  # how far into the task's input it ends (0-1), when known


def run_map_task(task: MapTask) -> dict[str, int]:
    store = Store(task.output)
    steps = [get_step(name, cfg, task.ctx) for name, cfg in task.steps]
    for step in steps:
        step.start_task(store, task.index)
    result = Counter()
    done = set(store.list(layout.parts_dir(task.stage, task.task_id)))  # one listing, not a check per part
    for part in iter_parts(iter_inputs(task), task.part_records, task.part_bytes):
        if layout.part_marker(task.stage, task.task_id, part.index) in done:
            result["parts_skipped"] += 1
            continue
        stats = process_part(task, store, steps, part)
        result["parts"] += 1
        result["docs_in"] += stats.docs_in
        result["docs_out"] += stats.docs_out
    store.write_text(task.marker, "")
    return dict(result)


def iter_inputs(task: MapTask) -> Iterator[Any]:
    n = len(task.inputs)
    for i, path in enumerate(task.inputs):
        if task.input_cfg is None:
            with Store(path).fs.open(path, "rb") as f:
                pf = pq.ParquetFile(f)
                rows, total = 0, max(1, pf.metadata.num_rows)
                for batch in pf.iter_batches(batch_size=8192):
                    yield pa.Table.from_batches([batch])
                    rows += batch.num_rows
                    yield Position((i + rows / total) / n)
        else:
            for item in read_file(path, task.input_cfg, task.source, positions=True, split=task.split):
                yield Position((i + item.fraction) / n) if isinstance(item, Position) else item


def record_bytes(record: dict[str, Any]) -> int:
    """A row's size for the part budget: the characters of its text fields (a reader hands a
    UTF-8 page over as bytes, counted as the characters they hold)."""
    return sum(len(v) if isinstance(v, str) else utf8_chars(v) for v in record.values() if isinstance(v, str | bytes))


def row_bytes(table: pa.Table) -> np.ndarray:
    """Bytes of each row's text and binary fields."""
    out = np.zeros(table.num_rows, dtype=np.int64)
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_binary(col.type) or pa.types.is_large_string(col.type):
            out += pc.binary_length(col).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return out


def iter_parts(items: Iterator[Any], n: int, max_bytes: int = 1 << 62) -> Iterator[Part]:
    """Cut a stream of rows, tables, errors and skips into parts of ``n`` records or ``max_bytes``
    bytes of input, whichever comes first (a part holds one record at least)."""
    part = Part(0)
    rows: list[dict[str, Any]] = []
    size = 0

    def flush_rows() -> None:
        if rows:
            part.tables.append(rows_to_table(rows))
            rows.clear()

    for item in items:
        if isinstance(item, Skip):
            part.skipped[item.kind] += 1
            continue
        if isinstance(item, Position):
            part.position = item.fraction
            continue
        if isinstance(item, pa.Table):
            flush_rows()
            sizes = np.cumsum(row_bytes(item))
            start = 0
            while start < item.num_rows:
                before = sizes[start - 1] if start else 0
                fit = int(np.searchsorted(sizes[start:] - before, max_bytes - size, side="left")) + 1
                take = min(n - part.records, item.num_rows - start, fit)
                part.tables.append(item.slice(start, take))
                part.records += take
                size += int(sizes[start + take - 1] - before)
                start += take
                if part.records >= n or size >= max_bytes:
                    yield part
                    part, size = Part(part.index + 1), 0
            continue
        if isinstance(item, ReadError):
            part.errors.append(item)
        else:
            rows.append(item)
            size += record_bytes(item)
        part.records += 1
        if part.records >= n or size >= max_bytes:
            flush_rows()
            yield part
            part, size = Part(part.index + 1), 0
    flush_rows()
    if part.records or part.skipped or part.index == 0:
        yield part


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    schema = pa.schema([pa.field(k, pa.string()) for k in names])
    return pa.Table.from_pylist(rows, schema=schema)


def process_part(task: MapTask, store: Store, steps: list, part: Part) -> PartStats:
    t_start = time.perf_counter()
    table = pa.concat_tables(part.tables, promote_options="default") if part.tables else rows_to_table(
        [{"id": None, "text": None, "url": None, "source": None}]).slice(0, 0)
    stats = PartStats(task.stage, task.task_id, part.index, errors=dict(Counter(e.error for e in part.errors)),
                      skipped=dict(part.skipped), position=part.position)
    stats.docs_in, stats.bytes_in, stats.in_by = table.num_rows, doc_bytes(table), breakdown(table)
    rejected: list[pa.Table] = []
    for step in steps:
        s = StepStats(step.name, docs_in=table.num_rows, bytes_in=doc_bytes(table))
        t0 = time.perf_counter()
        res = step.process(table) if table.num_rows else None
        s.seconds = time.perf_counter() - t0
        if res is not None:
            table = res.kept
            s.counters = dict(res.counters)
            if res.rejected.num_rows:
                rejected.append(res.rejected)
                s.set_rejected(res.rejected)
            for m in step.histograms():
                values = [t[m.column].to_numpy(zero_copy_only=False) for t in (res.kept, res.rejected)
                          if m.column in t.column_names]
                if values:
                    s.add_hist(m, np.concatenate(values).astype(np.float64))
        s.docs_out, s.bytes_out = table.num_rows, doc_bytes(table)
        stats.steps.append(s)
    stats.docs_out, stats.bytes_out, stats.out_by = table.num_rows, doc_bytes(table), breakdown(table)

    stats.seconds = time.perf_counter() - t_start
    layout.write_part(store, task.stage, layout.part_name(task.task_id, part.index), stats, kept=table,
                      rejected=rejected, errors=[e.to_json() for e in part.errors], redact=task.redact_rejected,
                      marker=layout.part_marker(task.stage, task.task_id, part.index))
    return stats


def task_id_for(path: str) -> str:
    base = path.rstrip("/").rsplit("/", 1)[-1]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", base.split(".")[0])[:40] or "input"
    return f"{slug}-{make_doc_id(path)[:8]}"


def plan_map_tasks(job: Job, store: Store, index: int) -> list[MapTask]:
    spec = job.spec
    stage = spec.stages[index]
    steps = tuple((name, cfg) for item in stage.steps for name, cfg in item.items())
    ctx = StepContext(seed=spec.seed, stage=stage.name, base_dir=job.base_dir)
    common: dict[str, Any] = {"output": job.output, "stage": stage.name, "source": spec.input.source or spec.name,
                              "steps": steps, "ctx": ctx, "part_records": stage.part_records,
                              "part_bytes": stage.part_bytes,
                              "redact_rejected": spec.redact_rejected}
    if index == 0:
        try:
            paths = expand_paths(list(spec.input.paths))
        except FileNotFoundError as e:
            raise FileNotFoundError(f"input.paths: {e}") from None
        if not paths:
            raise FileNotFoundError(f"input.paths matched no files: {', '.join(spec.input.paths)}")
        tasks = []
        for p in paths:
            splits = input_splits(p, spec.input)
            for k, split in enumerate(splits):
                tid = task_id_for(p) if split is None else f"{task_id_for(p)}-s{k:05d}"
                tasks.append(MapTask(task_id=tid, inputs=(p,), input_cfg=spec.input, split=split, index=len(tasks),
                                     **common))
        return tasks
    groups = layout.upstream_groups(store, spec.stages[index - 1].name)
    return [MapTask(task_id=tid, inputs=tuple(files), input_cfg=None, index=k, **common)
            for k, (tid, files) in enumerate(groups.items())]


class StepSetupError(RuntimeError):
    """A step cannot start (missing file, bad model); found in the driver before any task runs."""


def preflight(task: MapTask) -> None:
    for name, cfg in task.steps:
        try:
            check_step(name, cfg, task.ctx)
        except Exception as e:
            raise StepSetupError(f"stage {task.stage!r} step {name!r} cannot start: {type(e).__name__}: {e}") from e


def map_columns(spec: MapStageSpec, given: frozenset[str]) -> frozenset[str]:
    cols = given
    for i, item in enumerate(spec.steps):
        (name, _), = item.items()
        cls = step_class(name)
        missing = sorted(cls.needs - cols)
        if missing:
            raise ColumnError(f"steps.{i}.{name}", missing[0], cols)
        cols = (cols - cls.removes) | cls.adds
    return cols


def map_phases(job: Job, store: Store, index: int) -> Phases:
    tasks = plan_map_tasks(job, store, index)
    if tasks:
        preflight(tasks[0])
        for name, cfg in tasks[0].steps:  # tables joined to the documents first (robots.txt by origin)
            cls = step_class(name)
            yield from cls.join_phases(cls.Config.model_validate(cfg), tasks[0].ctx, store, tasks)
    yield "map", lambda: tasks


register_stage_kind(StageKind("map", MapStageSpec, frozenset({"steps", "part_records"}), map_phases, first=True,
                              described="`steps` (map)", columns=map_columns))
