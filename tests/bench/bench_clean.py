"""PII and decontamination throughput on real extracted pages (one core).

    python tests/bench/bench_clean.py

PII: docs/s with and without the prefilter. Decontamination: index build time over the six
default benchmarks in ../shared/data/benchmarks, and scan docs/s and MB/s.
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
from extraction_eval import wcxb  # noqa: E402


def pages() -> pa.Table:
    texts = [v["articleBody"] for v in json.loads((SHARED / "html_extraction" / "article_extraction_benchmark" /
                                                   "ground-truth.json").read_text()).values()]
    texts += [p.truth for p in wcxb(SHARED)]
    n = len(texts)
    return pa.table({"id": [str(i) for i in range(n)], "text": texts, "url": [None] * n, "source": ["b"] * n})


def main() -> None:
    t = pages()
    mb = sum(len(x.encode()) for x in t["text"].to_pylist()) / 1e6
    print(f"{t.num_rows} real pages, {mb:.1f} MB")
    for pf in (True, False):
        step = get_step("pii", {"prefilter": pf}, StepContext())
        t0 = time.perf_counter()
        res = step.process(t)
        s = time.perf_counter() - t0
        print(f"pii prefilter={pf}: {t.num_rows / s:7.0f} docs/s ({res.counters.get('docs_analyzed')} analyzed)")
    t0 = time.perf_counter()
    step = get_step("decontaminate", {"benchmarks_dir": str(SHARED / "benchmarks")}, StepContext())
    print(f"decontamination index: {time.perf_counter() - t0:.1f}s, {step.index.items} items, "
          f"{len(step.index.hashes)} n-grams")
    t0 = time.perf_counter()
    step.process(t)
    s = time.perf_counter() - t0
    print(f"decontamination scan: {t.num_rows / s:7.0f} docs/s, {mb / s:.1f} MB/s")


if __name__ == "__main__":
    main()
