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
import xxhash

from cc_cleaner.pipeline.redact import redact
from cc_cleaner.pipeline.step import Histogram

SAMPLES_PER_REASON = 5
SAMPLE_TEXT_CHARS = 800
BREAKDOWNS = ("lang", "source")  # drops and outputs are also counted per value of these columns


def sample_key(doc_id: str) -> int:
    """Rank of a document in the samples: the smallest keys win, so samples merge the same way
    however the input was cut into parts and tasks (a bottom-k sample)."""
    return xxhash.xxh3_64_intdigest(doc_id.encode("utf-8", "surrogatepass"))


def breakdown(table: pa.Table) -> dict[str, dict[str, int]]:
    """Documents per language and per source (``unknown`` before language ID ran)."""
    out: dict[str, dict[str, int]] = {}
    for col in BREAKDOWNS:
        if table.num_rows == 0:
            out[col] = {}
        elif col in table.column_names:
            vc = pc.value_counts(pc.fill_null(table[col], "unknown"))
            out[col] = {v["values"].as_py(): v["counts"].as_py() for v in vc}
        else:
            out[col] = {"unknown": table.num_rows}
    return out


_NOT_METRICS = {"id", "text", "html", "url", "source", "reason", "step"}


def _short(v: Any) -> bool:
    """Values worth showing beside a sample: numbers, flags, short strings and short lists of them."""
    if isinstance(v, bool | int | float):
        return True
    if isinstance(v, str):
        return len(v) <= 100
    return isinstance(v, list) and 0 < len(v) <= 10 and all(_short(x) and not isinstance(x, list) for x in v)


def _sample_rows(table: pa.Table, k: int) -> list[dict[str, Any]]:
    keys = np.array([sample_key(i) for i in table["id"].to_pylist()], dtype=np.uint64)
    take = np.argsort(keys, kind="stable")[:k]
    small = table.take(pa.array(take))
    rows = []
    for i, row in zip(take, small.to_pylist(), strict=True):
        text, field_ = row.get("text") or "", "text"
        if not text and row.get("html"):  # dropped before or at extraction: show the page itself
            text, field_ = row["html"], "html"
        # Samples travel in stats files and reports: never with raw personal data.
        url = row.get("url")
        rows.append({"key": int(keys[i]), "id": row["id"], "url": redact(url) if url else url,
                     "source": row.get("source"), "reason": row["reason"], "field": field_,
                     "text": redact(text[:SAMPLE_TEXT_CHARS + 100])[:SAMPLE_TEXT_CHARS], "chars": len(text),
                     "metrics": {c: v for c, v in row.items() if c not in _NOT_METRICS and _short(v)}})
    return rows


def merge_samples(a: list[dict[str, Any]], b: list[dict[str, Any]], k: int = SAMPLES_PER_REASON) -> list[dict]:
    return sorted(a + b, key=lambda r: (r["key"], r["id"]))[:k]


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
    drops_by: dict[str, dict[str, int]] = field(default_factory=dict)  # {"lang": {...}, "source": {...}}
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per reason, bottom-k
    counters: dict[str, int] = field(default_factory=dict)
    hists: dict[str, dict[str, Any]] = field(default_factory=dict)

    def set_rejected(self, rejected: pa.Table) -> None:
        """Set the drops per reason, language and source and the samples per reason from a part's rejected rows."""
        if rejected.num_rows == 0:
            return
        self.drops = dict(Counter(rejected["reason"].to_pylist()))
        self.drops_by = breakdown(rejected)
        self.samples = {reason: _sample_rows(rejected.filter(pc.equal(rejected["reason"], reason)),
                                             SAMPLES_PER_REASON) for reason in sorted(self.drops)}

    def add_hist(self, metric: Histogram, values: np.ndarray) -> None:
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
    in_by: dict[str, dict[str, int]] = field(default_factory=dict)
    out_by: dict[str, dict[str, int]] = field(default_factory=dict)
    steps: list[StepStats] = field(default_factory=list)
    # How far into its task's input the part ends (0-1), where the reader can tell: progress and ETA.
    position: float | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, indent=1)


def _add_by(total: dict[str, Counter], part: dict[str, dict[str, int]]) -> None:
    for col, counts in part.items():
        total.setdefault(col, Counter()).update(counts)


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up part stats (as loaded from JSON) of one stage."""
    total: dict[str, Any] = {"docs_in": 0, "bytes_in": 0, "docs_out": 0, "bytes_out": 0, "tokens_out": 0,
                             "seconds": 0.0, "errors": Counter(), "skipped": Counter(), "in_by": {},
                             "out_by": {}, "parts": len(parts), "steps": {}}
    order: list[str] = []
    for p in sorted(parts, key=lambda p: (p["task"], p["part"])):
        for k in ("docs_in", "bytes_in", "docs_out", "bytes_out", "tokens_out", "seconds"):
            total[k] += p.get(k, 0)
        total["errors"].update(p["errors"])
        total["skipped"].update(p["skipped"])
        _add_by(total["in_by"], p.get("in_by", {}))
        _add_by(total["out_by"], p.get("out_by", {}))
        for s in p["steps"]:
            if s["name"] not in total["steps"]:
                order.append(s["name"])
                total["steps"][s["name"]] = {
                    "name": s["name"], "docs_in": 0, "docs_out": 0, "bytes_in": 0, "bytes_out": 0,
                    "seconds": 0.0, "drops": Counter(), "drops_by": {}, "samples": {}, "counters": Counter(),
                    "hists": {}}
            t = total["steps"][s["name"]]
            for k in ("docs_in", "docs_out", "bytes_in", "bytes_out", "seconds"):
                t[k] += s[k]
            t["drops"].update(s["drops"])
            _add_by(t["drops_by"], s.get("drops_by", {}))
            for reason, rows in s.get("samples", {}).items():
                t["samples"][reason] = merge_samples(t["samples"].get(reason, []), rows)
            for key, v in s["counters"].items():  # "max:" counters are per-part constants, not sums
                t["counters"][key] = max(t["counters"].get(key, 0), v) if key.startswith("max:") else \
                    t["counters"].get(key, 0) + v
            for col, h in s["hists"].items():
                th = t["hists"].setdefault(col, {**h, "counts": [0] * len(h["counts"])})
                th["counts"] = [a + b for a, b in zip(th["counts"], h["counts"], strict=True)]
    total["steps"] = [total["steps"][n] for n in order]
    return json.loads(json.dumps(total))  # Counters to plain dicts
