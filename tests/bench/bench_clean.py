"""PII and decontamination throughput on real extracted pages (one core).

    python tests/bench/bench_clean.py

Two corpora: the ground-truth article texts of the extraction sets (clean prose), and the same
1,676 real pages as resiliparse extracts them (navigation, tables, footers: the digit runs and
addresses of real pages). PII: docs/s with and without the prefilter and the context checks.
Decontamination: the shipped index's load time beside a build from the six default benchmarks
in ../shared/data/benchmarks, and scan docs/s and MB/s. Each figure is timed after the step has
processed a million characters of other real pages (a worker's one-off costs are not in it).
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path
from typing import Any

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


def warm_texts() -> pa.Table:
    """A million characters of Dolma's Common Crawl text: real pages, none of them in the corpora
    timed here, so nothing a step remembers from them (PII's parsed numbers) is reused."""
    texts, size = [], 0
    for p in sorted((SHARED / "warc" / "dolma_cc_text").glob("cc_en_head-*.jsonl.gz")):
        for line in gzip.decompress(p.read_bytes()).decode().splitlines():
            if size < 1 << 20:
                texts.append(json.loads(line)["text"])
                size += len(texts[-1])
    n = len(texts)
    return pa.table({"id": [str(i) for i in range(n)], "text": texts, "url": [None] * n, "source": ["w"] * n})


def timed(step: Any, table: pa.Table) -> tuple[float, Any]:
    """Seconds to process ``table`` after ``warm_texts``: what a worker pays once (lazy setup,
    tables grown to a scan chunk's size, the first touch of a mapped index) is not in the figure."""
    step.process(warm_texts())
    t0 = time.perf_counter()
    res = step.process(table)
    return time.perf_counter() - t0, res


def main() -> None:
    sys.path.insert(0, str(HERE))
    full = full_pages()
    t = pages()
    print(f"full pages: {full.num_rows} real pages as resiliparse extracts them, "
          f"{sum(len(x.encode()) for x in full['text'].to_pylist()) / 1e6:.1f} MB")
    s, res = timed(get_step("pii", {}, StepContext()), full)
    print(f"pii on full pages: {full.num_rows / s:7.0f} docs/s ({res.counters.get('docs_analyzed')} analyzed)")
    s, _ = timed(get_step("decontaminate", {}, StepContext()), full)
    print(f"decontamination on full pages: {full.num_rows / s:6.0f} docs/s")
    mb = sum(len(x.encode()) for x in t["text"].to_pylist()) / 1e6
    print(f"article texts: {t.num_rows} real pages, {mb:.1f} MB")
    for pf, cc in ((True, True), (True, False), (False, True)):
        s, res = timed(get_step("pii", {"prefilter": pf, "context_checks": cc}, StepContext()), t)
        found = {k: v for k, v in res.counters.items() if k.startswith("entity:")}
        print(f"pii prefilter={pf} context_checks={cc}: {t.num_rows / s:7.0f} docs/s "
              f"({res.counters.get('docs_analyzed')} analyzed; replaced {found})")
    for cfg in ({}, {"benchmarks_dir": str(SHARED / "benchmarks")}):
        t0 = time.perf_counter()
        step = get_step("decontaminate", cfg, StepContext())
        setup = time.perf_counter() - t0
        s, res = timed(step, t)
        print(f"decontamination ({'built from the files' if cfg else 'shipped index'}): setup {setup:.1f}s, "
              f"{sum(step.index.indexed.values())} items, {len(step.index.hashes)} n-grams; scan "
              f"{t.num_rows / s:6.0f} docs/s, {mb / s:.1f} MB/s, {res.rejected.num_rows} hits")


if __name__ == "__main__":
    main()
