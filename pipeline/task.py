"""Map tasks: read one input shard, run the fused chain of steps part by part, write atomically.

A task's input is cut into *parts* of ``part_records`` input records. Each part's outputs
(data, rejected, errors, stats) are renamed into place and then a part marker is written, so a
killed task resumes at its first unfinished part; the part boundaries depend only on the
input, so a resumed run writes exactly the files of an uninterrupted one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cc_cleaner.pipeline.readers import InputConfig, ReadError, Skip, read_file
from cc_cleaner.pipeline.redact import redact_table
from cc_cleaner.pipeline.stats import PartStats, StepStats, breakdown, doc_bytes
from cc_cleaner.pipeline.step import StepContext, get_step
from cc_cleaner.pipeline.store import Store


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
    redact_rejected: bool = False

    @property
    def marker(self) -> str:
        return task_marker(self.stage, self.task_id)

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


def part_marker(stage: str, task_id: str, index: int) -> str:
    return f"_state/{stage}/parts/{task_id}/p{index:05d}.done"


def task_marker(stage: str, task_id: str) -> str:
    return f"_state/{stage}/tasks/{task_id}.done"


def run_map_task(task: MapTask) -> dict[str, int]:
    store = Store(task.output)
    steps = [get_step(name, cfg, task.ctx) for name, cfg in task.steps]
    result = Counter()
    for part in iter_parts(iter_inputs(task), task.part_records):
        if store.exists(part_marker(task.stage, task.task_id, part.index)):
            result["parts_skipped"] += 1
            continue
        stats = process_part(task, store, steps, part)
        result["parts"] += 1
        result["docs_in"] += stats.docs_in
        result["docs_out"] += stats.docs_out
    store.write_text(task_marker(task.stage, task.task_id), "")
    return dict(result)


def iter_inputs(task: MapTask) -> Iterator[Any]:
    for path in task.inputs:
        if task.input_cfg is None:
            with Store(path).fs.open(path, "rb") as f:
                for batch in pq.ParquetFile(f).iter_batches(batch_size=8192):
                    yield pa.Table.from_batches([batch])
        else:
            yield from read_file(path, task.input_cfg, task.source)


def iter_parts(items: Iterator[Any], n: int) -> Iterator[Part]:
    """Cut a stream of rows, tables, errors and skips into parts of ``n`` records."""
    part = Part(0)
    rows: list[dict[str, Any]] = []

    def flush_rows() -> None:
        if rows:
            part.tables.append(rows_to_table(rows))
            rows.clear()

    for item in items:
        if isinstance(item, Skip):
            part.skipped[item.kind] += 1
            continue
        if isinstance(item, pa.Table):
            flush_rows()
            start = 0
            while start < item.num_rows:
                take = min(n - part.records, item.num_rows - start)
                part.tables.append(item.slice(start, take))
                part.records += take
                start += take
                if part.records >= n:
                    yield part
                    part = Part(part.index + 1)
            continue
        if isinstance(item, ReadError):
            part.errors.append(item)
        else:
            rows.append(item)
        part.records += 1
        if part.records >= n:
            flush_rows()
            yield part
            part = Part(part.index + 1)
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
                      skipped=dict(part.skipped))
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
                s.add_rejected(res.rejected)
            for m in step.metrics():
                values = [t[m.column].to_numpy(zero_copy_only=False) for t in (res.kept, res.rejected)
                          if m.column in t.column_names]
                if values:
                    s.add_hist(m, np.concatenate(values).astype(np.float64))
        s.docs_out, s.bytes_out = table.num_rows, doc_bytes(table)
        stats.steps.append(s)
    stats.docs_out, stats.bytes_out, stats.out_by = table.num_rows, doc_bytes(table), breakdown(table)

    name = f"{task.task_id}-p{part.index:05d}"
    store.write_table(f"{task.stage}/data/{name}.parquet", table)
    if rejected:
        rej = pa.concat_tables(rejected, promote_options="default")
        store.write_table(f"{task.stage}/rejected/{name}.parquet", redact_table(rej) if task.redact_rejected else rej)
    if part.errors:
        store.write_text(f"{task.stage}/errors/{name}.jsonl", "".join(e.to_json() + "\n" for e in part.errors))
    stats.seconds = time.perf_counter() - t_start
    store.write_text(f"{task.stage}/stats/{name}.json", stats.to_json())
    store.write_text(part_marker(task.stage, task.task_id, part.index), "")
    return stats
