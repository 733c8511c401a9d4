"""Filter throughput: each step alone and the whole chain, on real extracted pages.

    python tests/bench/bench_filters.py [--repeat 3]

Pages: every page in ../shared/data/html_extraction, extracted once with trafilatura (not
timed). Prints docs/s per core (one process) per step and for the chain in job order.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow as pa  # noqa: E402
import trafilatura  # noqa: E402

from cc_cleaner.pipeline.decode import decode_payload  # noqa: E402
from cc_cleaner.pipeline.step import StepContext, get_step  # noqa: E402

from conftest import SHARED  # noqa: E402

CHAIN = [("url_blocklist", {}), ("language", {}), ("gopher_repetition", {}), ("gopher_quality", {}),
         ("c4", {}), ("fineweb", {}), ("refinedweb", {}), ("word_blocklist", {}), ("quality_model", {})]


def extracted_pages() -> pa.Table:
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    texts, urls = [], []
    for p in sorted((SHARED / "html_extraction").rglob("*.html.gz")):
        t = trafilatura.extract(decode_payload(gzip.decompress(p.read_bytes()))[0])
        if t:
            texts.append(t)
            urls.append(f"https://example.com/{p.stem}")
    n = len(texts)
    return pa.table({"id": [str(i) for i in range(n)], "text": texts, "url": urls, "source": ["bench"] * n})


def timed(steps: list, table: pa.Table, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        t = table
        for s in steps:
            # Score every document: measure the work on all of them, not only the survivors.
            t = s.process(t).kept if len(steps) > 1 else (s.process(t), t)[1]
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    table = extracted_pages()
    mb = sum(len(t.encode()) for t in table["text"].to_pylist()) / 1e6
    print(f"{table.num_rows} extracted pages, {mb:.1f} MB of text, one core")
    steps = [get_step(name, cfg, StepContext()) for name, cfg in CHAIN]
    for s in steps:
        secs = timed([s], table, args.repeat)
        print(f"  {s.name:18s} {table.num_rows / secs:9.0f} docs/s  {mb / secs:7.2f} MB/s")
    secs = timed(steps, table, args.repeat)
    print(f"  {'whole chain':18s} {table.num_rows / secs:9.0f} docs/s  {mb / secs:7.2f} MB/s  (docs in per second)")


if __name__ == "__main__":
    main()
