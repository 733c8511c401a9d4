"""PII and decontamination throughput on real extracted pages (one core).

    python tests/bench/bench_clean.py

Two corpora: the ground-truth article texts of the extraction sets (clean prose), and the same
1,676 real pages as resiliparse extracts them (navigation, tables, footers: the digit runs and
addresses of real pages). PII: docs/s with and without the prefilter and the context checks.
Decontamination: the shipped index's load time beside a build from the six default benchmarks
in ../shared/data/benchmarks, and scan docs/s and MB/s.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow as pa  # noqa: E402

from cc_cleaner.pipeline.step import StepContext, get_step  # noqa: E402

from conftest import SHARED  # noqa: E402
from extraction_eval import article_benchmark, wcxb  # noqa: E402


def pages() -> pa.Table:
    texts = [v["articleBody"] for v in json.loads((SHARED / "html_extraction" / "article_extraction_benchmark" /
                                                   "ground-truth.json").read_text()).values()]
    texts += [p.truth for p in wcxb(SHARED)]
    n = len(texts)
    return pa.table({"id": [str(i) for i in range(n)], "text": texts, "url": [None] * n, "source": ["b"] * n})


def full_pages() -> pa.Table:
    """Every page of the extraction sets, extracted by resiliparse (the step's own code)."""
    from bench_extract import trafilatura_eval

    html = [p.html for loader in (article_benchmark, wcxb, trafilatura_eval) for p in loader(SHARED)]
    step = get_step("extract", {"backend": "resiliparse", "rights": False}, StepContext())
    n = len(html)
    t = pa.table({"id": [str(i) for i in range(n)], "html": [h.decode("utf-8", "replace") for h in html],
                  "url": [None] * n, "source": ["b"] * n})
    return step.process(t).kept.select(["id", "text", "url", "source"])


def main() -> None:
    sys.path.insert(0, str(HERE))
    full = full_pages()
    print(f"full pages: {full.num_rows} real pages as resiliparse extracts them, "
          f"{sum(len(x.encode()) for x in full['text'].to_pylist()) / 1e6:.1f} MB")
    step = get_step("pii", {}, StepContext())
    t0 = time.perf_counter()
    res = step.process(full)
    s = time.perf_counter() - t0
    print(f"pii on full pages: {full.num_rows / s:7.0f} docs/s ({res.counters.get('docs_analyzed')} analyzed)")
    step = get_step("decontaminate", {}, StepContext())
    t0 = time.perf_counter()
    step.process(full)
    print(f"decontamination on full pages: {full.num_rows / (time.perf_counter() - t0):6.0f} docs/s")
    t = pages()
    mb = sum(len(x.encode()) for x in t["text"].to_pylist()) / 1e6
    print(f"article texts: {t.num_rows} real pages, {mb:.1f} MB")
    for pf, cc in ((True, True), (True, False), (False, True)):
        step = get_step("pii", {"prefilter": pf, "context_checks": cc}, StepContext())
        t0 = time.perf_counter()
        res = step.process(t)
        s = time.perf_counter() - t0
        found = {k: v for k, v in res.counters.items() if k.startswith("entity:")}
        print(f"pii prefilter={pf} context_checks={cc}: {t.num_rows / s:7.0f} docs/s "
              f"({res.counters.get('docs_analyzed')} analyzed; replaced {found})")
    for cfg in ({}, {"benchmarks_dir": str(SHARED / "benchmarks")}):
        t0 = time.perf_counter()
        step = get_step("decontaminate", cfg, StepContext())
        setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = step.process(t)
        s = time.perf_counter() - t0
        print(f"decontamination ({'built from the files' if cfg else 'shipped index'}): setup {setup:.1f}s, "
              f"{sum(step.index.indexed.values())} items, {len(step.index.hashes)} n-grams; scan "
              f"{t.num_rows / s:6.0f} docs/s, {mb / s:.1f} MB/s, {res.rejected.num_rows} hits")


if __name__ == "__main__":
    main()
