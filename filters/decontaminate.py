"""Benchmark decontamination by n-gram overlap with an index of benchmark test items.

Text is normalised to lower-case word tokens (Chinese/Japanese/Thai: one per character; see
``pipeline.text``), punctuation and spacing ignored, so reformatted copies still match. The index
maps every ``n``-token n-gram of every item (an item shorter than n is one n-gram of all it has,
if it has at least ``min_item_tokens``) to its items; n-grams shared by more than
``max_items_per_ngram`` items are boilerplate of the benchmark ("which of the following") and
are left out. A document contaminated by an item holds at least ``min_overlap`` of that item's
n-grams (and at least one). Defaults: n = 13 (GPT-3's 13-gram rule), min_overlap 0.3.
Policy ``drop`` rejects the document; ``cut`` removes the matched token spans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from cc_cleaner.dedup.minhash import cut_token_runs, kgram_hashes, token_spans
from cc_cleaner.filters.benchmarks import load_benchmark, load_file
from cc_cleaner.pipeline.step import Metric, Step, StepConfig, StepResult, register, split_by_reasons


class BenchmarkFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    path: str
    fields: list[str]


class DecontaminateConfig(StepConfig):
    benchmarks: list[str] = ["gsm8k", "humaneval", "mbpp", "mmlu", "cmmlu", "ceval"]
    benchmarks_dir: str = "../shared/data/benchmarks"  # the folder holding the known layouts
    splits: list[str] | None = None  # csv benchmarks: default test (ceval: val + test)
    files: list[BenchmarkFile] = []
    n: int = Field(default=13, ge=3)
    min_item_tokens: int = Field(default=8, ge=1)
    min_overlap: float = Field(default=0.3, gt=0, le=1)
    max_items_per_ngram: int = Field(default=5, ge=1)
    action: Literal["drop", "cut"] = "drop"


class ContaminationIndex:
    def __init__(self, items: list[tuple[str, str, str]], n: int, min_item_tokens: int, max_items: int) -> None:
        self.n = n
        self.names = [f"{b}:{i}" for b, i, _ in items]
        hashes, owners = [], []
        self.item_ngrams = np.zeros(len(items), dtype=np.int64)
        for k, (_, _, text) in enumerate(items):
            _, _, tok = token_spans(text)
            if len(tok) < min_item_tokens:
                continue
            h = np.unique(kgram_hashes(tok, min(n, len(tok))))
            hashes.append(h)
            owners.append(np.full(len(h), k, dtype=np.int64))
        h = np.concatenate(hashes) if hashes else np.empty(0, np.uint64)
        o = np.concatenate(owners) if owners else np.empty(0, np.int64)
        order = np.lexsort((o, h))
        h, o = h[order], o[order]
        uniq, start, count = np.unique(h, return_index=True, return_counts=True)
        keep = count <= max_items
        self.dropped_ngrams = int((~keep).sum())
        mask = np.repeat(keep, count)
        self.hashes, self.owners = h[mask], o[mask]
        np.add.at(self.item_ngrams, self.owners, 1)
        self.items = len(items)

    def match(self, text: str) -> tuple[dict[int, int], np.ndarray, np.ndarray, np.ndarray]:
        """(item -> n-grams found, token starts, token ends, positions of matching n-grams)."""
        starts, ends, tok = token_spans(text)
        if len(tok) == 0 or len(self.hashes) == 0:
            return {}, starts, ends, np.empty(0, np.int64)
        grams = kgram_hashes(tok, min(self.n, len(tok)))
        # self.hashes is sorted: a binary search per n-gram, not np.isin's sort of the whole index.
        at = np.minimum(np.searchsorted(self.hashes, grams), len(self.hashes) - 1)
        pos = np.flatnonzero(self.hashes[at] == grams)
        found: dict[int, int] = {}
        for g in np.unique(grams[pos]):
            lo, hi = np.searchsorted(self.hashes, g, "left"), np.searchsorted(self.hashes, g, "right")
            for item in self.owners[lo:hi]:
                found[int(item)] = found.get(int(item), 0) + 1
        return found, starts, ends, pos


@register
class Decontaminate(Step):
    """Adds ``contamination`` (the matched ``benchmark:item`` ids); drops or cuts per ``action``."""

    name = "decontaminate"
    Config = DecontaminateConfig
    config: DecontaminateConfig

    def setup(self) -> None:
        c = self.config
        root = Path(self.ctx.resolve(c.benchmarks_dir))
        items = [it for b in c.benchmarks for it in load_benchmark(b, root, c.splits)]
        items += [it for f in c.files for it in load_file(f.name, Path(self.ctx.resolve(f.path)), f.fields)]
        self.index = ContaminationIndex(items, c.n, c.min_item_tokens, c.max_items_per_ngram)

    def metrics(self) -> list[Metric]:
        return [Metric("contamination_items", list(range(0, 6)) + [1e9], 1)]

    def process(self, table: pa.Table) -> StepResult:
        c, idx = self.config, self.index
        texts, hits, reasons = [], [], []
        counters: dict[str, int] = {}
        for text in table["text"].to_pylist():
            found, starts, ends, pos = idx.match(text)
            matched = sorted(k for k, m in found.items() if m >= max(1, c.min_overlap * idx.item_ngrams[k]))
            names = [idx.names[k] for k in matched]
            hits.append(names)
            for nm in names:
                bench = nm.split(":", 1)[0]
                counters[f"benchmark:{bench}"] = counters.get(f"benchmark:{bench}", 0) + 1
            if not matched:
                texts.append(text)
                reasons.append(None)
            elif c.action == "drop":
                texts.append(text)
                reasons.append("benchmark_contamination")
            else:
                new, _ = cut_token_runs(text, starts, ends, pos, min(c.n, len(starts)))
                texts.append(new if new.strip() else text)
                reasons.append(None if new.strip() else "benchmark_contamination")
        table = table.set_column(table.column_names.index("text"), "text", pa.array(texts, pa.string()))
        table = table.append_column("contamination", pa.array(hits, pa.list_(pa.string())))
        table = table.append_column("contamination_items", pa.array([len(h) for h in hits], pa.int32()))
        return split_by_reasons(table, self.name, reasons, counters)

