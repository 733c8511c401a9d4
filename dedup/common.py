"""What the dedup stages share: reading an upstream task's documents, writing kept/rejected parts."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from cc_cleaner.pipeline.redact import redact_table
from cc_cleaner.pipeline.schema import with_reason
from cc_cleaner.pipeline.stats import PartStats, StepStats, breakdown, doc_bytes
from cc_cleaner.pipeline.store import Store
from cc_cleaner.pipeline.text import script_language

_SPACE = re.compile(r"\s+")


def part_name(path: str) -> str:
    """The upstream part's file name without .parquet: dedup outputs keep the same part names."""
    return path.rsplit("/", 1)[-1].removesuffix(".parquet")


def read_parts(store: Store, files: tuple[str, ...], columns: list[str] | None = None) -> Iterator[tuple[str, pa.Table]]:
    for path in files:
        with store.fs.open(path, "rb") as f:
            yield part_name(path), pq.read_table(f, columns=columns)


def languages(table: pa.Table) -> list[str]:
    if "lang" in table.column_names:
        return [lang or "und" for lang in table["lang"].to_pylist()]
    return [script_language(t or "") for t in table["text"].to_pylist()]


def normalized_hash(text: str) -> int:
    """Hash of the text lower-cased with runs of white space folded: exact-duplicate identity."""
    return xxhash.xxh3_64_intdigest(_SPACE.sub(" ", text.lower()).strip().encode("utf-8", "surrogatepass"))


def write_part(store: Store, stage: str, task: str, name: str, docs_in: pa.Table, kept: pa.Table,
               rejected: pa.Table, step: str, seconds: float, counters: dict[str, int] | None = None,
               earlier_rejected: pa.Table | None = None, redact: bool = False) -> PartStats:
    """Write one part's kept and rejected documents and its stats (as a map stage would).

    ``earlier_rejected`` (an earlier step's drops of the same part) goes into the rejected file
    but not into this step's counts."""
    store.write_table(f"{stage}/data/{name}.parquet", kept)
    to_file = rejected if earlier_rejected is None else pa.concat_tables([earlier_rejected, rejected],
                                                                          promote_options="default")
    if to_file.num_rows:
        store.write_table(f"{stage}/rejected/{name}.parquet", redact_table(to_file) if redact else to_file)
    st = PartStats(stage, task, 0, docs_in=docs_in.num_rows, docs_out=kept.num_rows, bytes_in=doc_bytes(docs_in),
                   bytes_out=doc_bytes(kept), seconds=seconds, in_by=breakdown(docs_in), out_by=breakdown(kept))
    step_st = StepStats(step, docs_in=st.docs_in, docs_out=st.docs_out, bytes_in=st.bytes_in,
                        bytes_out=st.bytes_out, seconds=seconds, counters=counters or {})
    step_st.add_rejected(rejected)
    st.steps.append(step_st)
    store.write_text(f"{stage}/stats/{name}.json", st.to_json())
    return st


def split_rejected(table: pa.Table, reasons: list[str | None], step: str) -> tuple[pa.Table, pa.Table]:
    keep = pa.array([r is None for r in reasons])
    rejected = table.filter(pc.invert(keep))
    return table.filter(keep), with_reason(rejected, step, [r for r in reasons if r is not None])


class PhaseTask:
    """Shared by the tasks of global dedup stages (frozen dataclasses with ``output``, ``stage``,
    ``phase``, ``index`` and ``homes``): ``index`` is an upstream task (home) or a partition, and
    ``run`` calls the method named after the phase, then writes the completion marker."""

    partition_phases: ClassVar[frozenset[str]] = frozenset()

    @property
    def marker(self) -> str:
        return f"_state/{self.stage}/{self.phase}/{self.index:05d}.done"

    def describe(self) -> str:
        what = f"partition {self.index}" if self.phase in self.partition_phases else self.homes[self.index]
        return f"stage {self.stage!r} {self.phase} task ({what})"

    def run(self) -> dict[str, int]:
        store = Store(self.output)
        res = getattr(self, f"_{self.phase}")(store)
        store.write_text(self.marker, "")
        return res or {}


class Timer:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.t0
