"""A per-origin table (robots.txt, tdmrep.json captures) joined to a map stage's documents by
host, through hash partitions, so that no worker holds the whole table (every host of a crawl).

Before the stage's map tasks run, for a step that declares a join (``Robots``, ``Rights``):

- ``table`` (one task per table file): the file's captures of the step's path, sent to the
  partition of their host (``www.`` dropped, so that ``http``/``https``, ports and the common
  www redirect meet).
- ``urls`` (one task per map task): the distinct URLs of the task's input, sent the same way.
- ``need<k>`` / ``answer<k>`` (robots.txt only; k <= 5, while any partition still asks): a 3xx
  capture whose target lives in another partition asks that partition for it (RFC 9309
  2.3.1.2: five hops), so that every redirect the whole table would follow is followed.
- ``join`` (one task per partition): the step's own decision for each URL
  (``step.join_decide`` on the partition's captures and those it fetched), sent to the map task
  that holds the URL.

A map task then reads only its own verdicts (``task_verdicts``). Memory per task: one partition
of the captures, or one map task's URLs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from cc_cleaner.filters.robots import Entry, load_table, origin
from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.map_stage import MapTask, StepSetupError
from cc_cleaner.pipeline.readers import read_urls
from cc_cleaner.pipeline.shuffle import gather, scatter
from cc_cleaner.pipeline.step import StepConfig, StepContext, step_class
from cc_cleaner.pipeline.store import Store

HOPS = 5
CAPTURE = pa.schema([("origin", pa.string()), ("status", pa.int32()), ("body", pa.string()),
                     ("when", pa.string()), ("location", pa.string())])
URLS = pa.schema([("url", pa.string()), ("task", pa.int32())])
NEED = pa.schema([("origin", pa.string()), ("asker", pa.int32())])
VERDICT = pa.schema([("url", pa.string()), ("verdict", pa.string())])  # the step's decision, as JSON


def host_key(org: str) -> str:
    host = org.split("://", 1)[-1].split(":", 1)[0]
    return host.removeprefix("www.")


def _send(store: Store, stage: str, name: str, producer: str, table: pa.Table, column: str, partitions: int) -> None:
    """Rows to the partition of their origin's (or URL's) host."""
    if table.num_rows:
        keys = np.fromiter((xxhash.xxh3_64_intdigest(host_key(origin(o) or "").encode())
                            for o in table[column].to_pylist()), dtype=np.uint64, count=table.num_rows)
        scatter(store, stage, name, producer, table, keys, partitions)


def join_key(step: str, config: StepConfig) -> str:
    """The join's name: one per step and distinct config in a stage."""
    return f"{step}-" + xxhash.xxh3_64_hexdigest(config.model_dump_json().encode())[:8]


def _put(table: dict[str, Entry], org: str, entry: Entry) -> None:
    """``load_table``'s rule across files: the latest capture wins (on a tie, the later file)."""
    if org not in table or entry[2] >= table[org][2]:
        table[org] = entry


def _entries(t: pa.Table, into: dict[str, Entry] | None = None) -> dict[str, Entry]:
    out = {} if into is None else into
    for o, st, b, w, loc in zip(*(t[c].to_pylist() for c in CAPTURE.names), strict=True):
        _put(out, o, (st, b, w, loc))
    return out


def _table(e: dict[str, Entry]) -> pa.Table:
    return pa.table([list(e), [v[0] for v in e.values()], [v[1] for v in e.values()], [v[2] for v in e.values()],
                     [v[3] for v in e.values()]], schema=CAPTURE)


@dataclass(frozen=True)
class JoinTask:
    output: str
    stage: str
    key: str
    phase: str  # table, urls, need<k>, answer<k>, join
    index: int  # table file, map task or partition
    step: str
    config: StepConfig
    ctx: StepContext
    path: str  # the captures' path: /robots.txt, /.well-known/tdmrep.json
    partitions: int
    files: tuple[str, ...] = ()
    map_task: MapTask | None = None
    tasks: int = 0  # map tasks in the stage

    @property
    def marker(self) -> str:
        return layout.task_marker(self.stage, f"{self.key}-{self.phase}", f"{self.index:05d}")

    def describe(self) -> str:
        return f"stage {self.stage!r} {self.step} table join {self.phase} task {self.index}"

    @property
    def name(self) -> str:
        return f"{self.key}-{self.phase.rstrip('0123456789')}"

    def run(self) -> dict[str, int]:
        store = Store(self.output)
        kind = self.phase.rstrip("0123456789")
        getattr(self, f"_{kind}")(store, int(self.phase[len(kind):] or 0))
        store.write_text(self.marker, "")
        return {}

    def _note(self, store: Store, what: str, info: dict[str, Any]) -> None:
        store.write_text(f"{layout.shuffle_dir(self.stage, f'{self.key}-{what}', 0)}/{self.index:05d}.json",
                         json.dumps(info))

    def _table(self, store: Store, _: int) -> None:
        errors: Counter = Counter()
        entries = load_table([self.files[self.index]], errors, self.path)
        self._note(store, "captures", {"captures": len(entries), "errors": dict(errors)})
        _send(store, self.stage, f"{self.key}-table", f"{self.index:05d}", _table(entries), "origin",
              self.partitions)

    def _urls(self, store: Store, _: int) -> None:
        urls = sorted({u for u in _task_urls(self.map_task) if origin(u) is not None})
        _send(store, self.stage, f"{self.key}-urls", f"{self.index:05d}",
              pa.table([urls, [self.index] * len(urls)], schema=URLS), "url", self.partitions)

    def _captures(self, store: Store, hops: int) -> dict[str, Entry]:
        """The partition's captures and those it fetched in answers before hop ``hops``."""
        own = _entries(gather(store, self.stage, f"{self.key}-table", self.index, CAPTURE))
        for k in range(1, hops):
            for o, e in _entries(gather(store, self.stage, f"{self.key}-got{k}", self.index, CAPTURE)).items():
                own.setdefault(o, e)
        return own

    def _need(self, store: Store, hop: int) -> None:
        have = self._captures(store, hop)
        asked = set()
        for k in range(1, hop):
            rel = f"{layout.shuffle_dir(self.stage, f'{self.key}-asked{k}', 0)}/{self.index:05d}.json"
            if store.exists(rel):
                asked.update(json.loads(store.read_text(rel)))
        want = sorted({origin(e[3]) for e in have.values()
                       if 300 <= e[0] < 400 and e[3] and urlsplit(e[3]).path == self.path} - set(have) - asked
                      - {None})
        self._note(store, f"asked{hop}", want)  # type: ignore[arg-type]
        _send(store, self.stage, f"{self.key}-need{hop}", f"{self.index:05d}",
              pa.table([want, [self.index] * len(want)], schema=NEED), "origin", self.partitions)

    def _answer(self, store: Store, hop: int) -> None:
        needs = gather(store, self.stage, f"{self.key}-need{hop}", self.index, NEED)
        if not needs.num_rows:
            return
        own = _entries(gather(store, self.stage, f"{self.key}-table", self.index, CAPTURE))
        rows: dict[int, dict[str, Entry]] = {}
        for o, asker in zip(needs["origin"].to_pylist(), needs["asker"].to_pylist(), strict=True):
            if o in own:
                rows.setdefault(asker, {})[o] = own[o]
        for asker, entries in rows.items():
            t = _table(entries)
            scatter(store, self.stage, f"{self.key}-got{hop}", f"{self.index:05d}", t,
                    np.full(t.num_rows, asker, dtype=np.uint64), self.partitions)

    def _join(self, store: Store, hops: int) -> None:
        cls = step_class(self.step)
        step = cls(self.config, self.ctx)
        step.setup()
        urls = gather(store, self.stage, f"{self.key}-urls", self.index, URLS)
        if not urls.num_rows:
            return
        decided = step.join_decide(self._captures(store, hops + 1), sorted(set(urls["url"].to_pylist())))
        u_list, tasks = urls["url"].to_pylist(), urls["task"].to_pylist()
        out = pa.table([u_list, [json.dumps(decided[u]) for u in u_list]], schema=VERDICT)
        scatter(store, self.stage, f"{self.key}-verdicts", f"{self.index:05d}", out,
                np.array(tasks, dtype=np.uint64), self.tasks)


def _task_urls(task: MapTask) -> Iterator[str]:
    """The URLs of a map task's input, reading no more than it must (only `url` of Parquet, no
    payload of WARC)."""
    if task.input_cfg is None:
        for path in task.inputs:
            with Store(path).fs.open(path, "rb") as f:
                yield from (u for u in pq.read_table(f, columns=["url"])["url"].to_pylist() if u)
        return
    for path in task.inputs:
        yield from read_urls(path, task.input_cfg, task.source, split=task.split)


def join_phases(step: str, config: StepConfig, ctx: StepContext, store: Store, tasks: list[MapTask],
                files: list[str], path: str, partitions: int, redirects: bool) -> Iterator[Any]:
    """The join's phases for ``step`` (its table ``files`` hold captures of ``path``)."""
    key, stage = join_key(step, config), ctx.stage
    common = {"step": step, "config": config, "ctx": ctx, "path": path, "partitions": partitions}

    def plan(phase: str, n: int, **kw: Any) -> Any:
        return lambda: [JoinTask(store.root, stage, key, phase, i, **common, **kw) for i in range(n)]

    yield f"{key}-table", plan("table", len(files), files=tuple(files))
    notes = [json.loads(store.read_text(r))
             for r in store.list(layout.shuffle_dir(stage, f"{key}-captures", 0), ".json")]
    if not sum(n["captures"] for n in notes):
        raise StepSetupError(f"stage {stage!r} step {step!r}: the table holds no capture of {path}")
    errors: Counter = Counter()
    for n in notes:
        errors.update(n["errors"])
    store.write_text(_errors_file(stage, key), json.dumps(dict(errors)))
    yield f"{key}-urls", lambda: [JoinTask(store.root, stage, key, "urls", t.index, **common, map_task=t)
                                  for t in tasks]
    hops = 0
    for hop in range(1, HOPS + 1 if redirects else 1):
        yield f"{key}-need{hop}", plan(f"need{hop}", partitions)
        asked = [json.loads(store.read_text(r))
                 for r in store.list(layout.shuffle_dir(stage, f"{key}-asked{hop}", 0), ".json")]
        if not any(asked):
            break
        yield f"{key}-answer{hop}", plan(f"answer{hop}", partitions)
        hops = hop
    yield f"{key}-join", plan(f"join{hops}", partitions, tasks=len(tasks))


def _errors_file(stage: str, key: str) -> str:
    return f"{layout.shuffle_dir(stage, f'{key}-errors', 0)}.json"


def task_verdicts(store: Store, stage: str, step: str, config: StepConfig,
                  task: int) -> tuple[dict[str, Any], dict[str, int]]:
    """A map task's verdicts (url -> the step's decision) and the table's read errors."""
    key = join_key(step, config)
    t = gather(store, stage, f"{key}-verdicts", task, VERDICT)
    verdicts = dict(zip(t["url"].to_pylist(), map(json.loads, t["verdict"].to_pylist()), strict=True))
    errors = json.loads(store.read_text(_errors_file(stage, key))) if store.exists(_errors_file(stage, key)) else {}
    return verdicts, errors
