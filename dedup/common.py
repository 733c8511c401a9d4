"""What the dedup stages share: reading an upstream task's documents, writing kept/rejected parts."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.stats import PartStats, StepStats, breakdown, doc_bytes
from cc_cleaner.pipeline.store import Store

_SPACE = re.compile(r"\s+")


def read_parts(store: Store, files: tuple[str, ...], columns: list[str] | None = None) -> Iterator[tuple[str, pa.Table]]:
    """(part name, table) of upstream parts: dedup outputs keep the upstream part names."""
    for path in files:
        with store.fs.open(path, "rb") as f:
            yield layout.part_of(path), pq.read_table(f, columns=columns)


def normalized_hash(text: str) -> int:
    """Hash of the text lower-cased with runs of white space folded: exact-duplicate identity."""
    return xxhash.xxh3_64_intdigest(_SPACE.sub(" ", text.lower()).strip().encode("utf-8", "surrogatepass"))


def write_part(store: Store, stage: str, task: str, name: str, docs_in: pa.Table, kept: pa.Table,
               rejected: pa.Table, step: str, seconds: float, counters: dict[str, int] | None = None,
               earlier_rejected: pa.Table | None = None, redact: bool = False,
               finish_stats: Callable[[PartStats], str] | None = None) -> PartStats:
    """Write one part's kept and rejected documents and its stats (as a map stage would).

    ``earlier_rejected`` (an earlier step's drops of the same part) goes into the rejected file
    but not into this step's counts; ``finish_stats`` turns the stats into the JSON written."""
    st = PartStats(stage, task, 0, docs_in=docs_in.num_rows, docs_out=kept.num_rows, bytes_in=doc_bytes(docs_in),
                   bytes_out=doc_bytes(kept), seconds=seconds, in_by=breakdown(docs_in), out_by=breakdown(kept))
    step_st = StepStats(step, docs_in=st.docs_in, docs_out=st.docs_out, bytes_in=st.bytes_in,
                        bytes_out=st.bytes_out, seconds=seconds, counters=counters or {})
    step_st.set_rejected(rejected)
    st.steps.append(step_st)
    layout.write_part(store, stage, name, finish_stats(st) if finish_stats else st, kept=kept,
                      rejected=[rejected] if earlier_rejected is None else [earlier_rejected, rejected],
                      redact=redact)
    return st


class PhaseTask:
    """Shared by the tasks of global dedup stages (frozen dataclasses with ``output``, ``stage``,
    ``phase``, ``index`` and ``homes``): ``index`` is an upstream task (home) or a partition, and
    ``run`` calls the method named after the phase, then writes the completion marker."""

    partition_phases: ClassVar[frozenset[str]] = frozenset()

    @property
    def marker(self) -> str:
        return layout.task_marker(self.stage, self.phase, f"{self.index:05d}")

    def describe(self) -> str:
        what = f"partition {self.index}" if self._kind in self.partition_phases else self.homes[self.index]
        return f"stage {self.stage!r} {self.phase} task ({what})"

    @property
    def _kind(self) -> str:
        """The phase without its round number (``star3`` -> ``star``)."""
        return self.phase.rstrip("0123456789")

    def run(self) -> dict[str, int]:
        store = Store(self.output)
        res = getattr(self, f"_{self._kind}")(store)
        store.write_text(self.marker, "")
        return res or {}


class Timer:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.t0
