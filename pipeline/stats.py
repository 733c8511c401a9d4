"""Per-part statistics: counts, bytes, drops per reason, metric histograms, timings.

Each part of each task writes one JSON file; ``merge`` adds them up for the CLI and reports.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cc_cleaner.pipeline.step import Metric


def text_bytes(table: pa.Table, column: str = "text") -> int:
    if column not in table.column_names or table.num_rows == 0:
        return 0
    total = pc.sum(pc.binary_length(table[column]))
    return int(total.as_py() or 0)


def doc_bytes(table: pa.Table) -> int:
    """Size of a document: its text, or its HTML before extraction."""
    return text_bytes(table, "text") if "text" in table.column_names else text_bytes(table, "html")


@dataclass
class StepStats:
    name: str
    docs_in: int = 0
    docs_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    seconds: float = 0.0
    drops: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    hists: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_hist(self, metric: Metric, values: np.ndarray) -> None:
        values = values[~np.isnan(values)] if values.dtype.kind == "f" else values
        edges = np.asarray(metric.edges, dtype=np.float64)
        # Values beyond the edges land in the first/last bin, so nothing goes uncounted.
        counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
        h = self.hists.setdefault(
            metric.column, {"edges": list(metric.edges), "counts": [0] * (len(edges) - 1),
                            "threshold": metric.threshold})
        h["counts"] = [a + int(b) for a, b in zip(h["counts"], counts, strict=True)]


@dataclass
class PartStats:
    stage: str
    task: str
    part: int
    docs_in: int = 0
    bytes_in: int = 0
    docs_out: int = 0
    bytes_out: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    steps: list[StepStats] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, indent=1)


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up part stats (as loaded from JSON) of one stage."""
    total: dict[str, Any] = {"docs_in": 0, "bytes_in": 0, "docs_out": 0, "bytes_out": 0, "tokens_out": 0,
                             "seconds": 0.0,
                             "errors": Counter(), "skipped": Counter(), "parts": len(parts), "steps": {}}
    order: list[str] = []
    for p in parts:
        for k in ("docs_in", "bytes_in", "docs_out", "bytes_out", "tokens_out", "seconds"):
            total[k] += p.get(k, 0)
        total["errors"].update(p["errors"])
        total["skipped"].update(p["skipped"])
        for s in p["steps"]:
            if s["name"] not in total["steps"]:
                order.append(s["name"])
                total["steps"][s["name"]] = {
                    "name": s["name"], "docs_in": 0, "docs_out": 0, "bytes_in": 0, "bytes_out": 0,
                    "seconds": 0.0, "drops": Counter(), "counters": Counter(), "hists": {}}
            t = total["steps"][s["name"]]
            for k in ("docs_in", "docs_out", "bytes_in", "bytes_out", "seconds"):
                t[k] += s[k]
            t["drops"].update(s["drops"])
            t["counters"].update(s["counters"])
            for col, h in s["hists"].items():
                th = t["hists"].setdefault(col, {**h, "counts": [0] * len(h["counts"])})
                th["counts"] = [a + b for a, b in zip(th["counts"], h["counts"], strict=True)]
    total["steps"] = [total["steps"][n] for n in order]
    return json.loads(json.dumps(total))  # Counters to plain dicts
