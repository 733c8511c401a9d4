"""Scaling benchmark: the same job on the same input at 1, 2, 4, 8 and 16 workers.

    python tests/bench/bench_scaling.py [--workers 1,2,4,8,16] [--engine local|ray] [--files 32]

The input is every page of the extraction sets in ../shared/data (about 1,700 real pages), split
round-robin over ``--files`` WARC files so that every worker count has equal tasks to share. The
job is the quickstart's: the extract stage with its filter chain (a map stage) and a dedup_docs
stage (global: signatures, a shuffle by band, verification, components, write). For each worker
count it prints docs/s per stage, the speedup over 1 worker and the efficiency (speedup / workers;
1.0 is linear). Worker counts above the machine's cores are marked: they measure
oversubscription, not scaling.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_extract import trafilatura_eval  # noqa: E402

from cc_cleaner.pipeline.engines import get_engine  # noqa: E402
from cc_cleaner.pipeline.job import parse_job  # noqa: E402
from cc_cleaner.pipeline.runner import run_job  # noqa: E402

from conftest import QUICKSTART, SHARED  # noqa: E402
from extraction_eval import article_benchmark, wcxb  # noqa: E402
from helpers import write_warc  # noqa: E402

STEPS = [{"extract": {"backend": "trafilatura"}},
         {"language": {"keep": ["en", "zh", "de", "fr", "es", "ru", "ja", "pt", "it"], "min_score": 0.5}},
         {"gopher_repetition": {}}, {"gopher_quality": {}}, {"c4": {}}, {"fineweb": {}},
         {"quality_model": {"min_score": 0.05}}]


def make_input(tmp: Path, files: int) -> tuple[list[str], int]:
    pages = [p for loader in (article_benchmark, wcxb, trafilatura_eval) for p in loader(SHARED)]
    paths = []
    for f in range(files):
        chunk = pages[f::files]
        path = tmp / f"crawl-{f:05d}.warc.gz"
        write_warc(path, [(p.url or f"https://bench.example/{p.id}", p.html, "text/html") for p in chunk])
        paths.append(str(path))
    return paths, len(pages)


def run_once(paths: list[str], out: Path, engine_name: str, workers: int) -> dict[str, float]:
    job = parse_job({"name": "scaling", "seed": 1, "output": str(out),
                     "input": {"format": "warc", "paths": paths, "max_page_bytes": 50_000_000},
                     "stages": [{"name": "extract", "part_records": 500, "steps": STEPS},
                                {"name": "dedup_docs", "partitions": 16,
                                 "minhash": {"shingle": {"default": "word_5gram", "zh": "char_5gram"}}}]},
                    str(QUICKSTART.parent))
    engine = get_engine(engine_name, workers)
    try:
        engine.run(list(range(workers)), abs)  # start the workers before the clock starts
        t0 = time.perf_counter()
        report = run_job(job, engine, progress=False)
        total = time.perf_counter() - t0
    finally:
        engine.close()
    by = {s.name: s for s in report.stages}
    return {"extract_s": by["extract"].seconds, "dedup_s": by["dedup_docs"].seconds, "total_s": total,
            "docs_in": by["extract"].docs_in}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", default="1,2,4,8,16")
    ap.add_argument("--engine", default="local", choices=["local", "ray"])
    ap.add_argument("--files", type=int, default=32, help="input WARC files (= extract tasks)")
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        paths, n_pages = make_input(Path(tmp), args.files)
        print(f"input: {n_pages} pages in {len(paths)} WARC files; engine {args.engine}; "
              f"{cores} cores available")
        rows = []
        for w in counts:
            r = run_once(paths, Path(tmp) / f"out-{w}", args.engine, w)
            rows.append((w, r))
            print(f"  ran {w:2d} workers: extract {r['extract_s']:.1f}s, dedup_docs {r['dedup_s']:.1f}s", flush=True)
    base = rows[0][1]
    w0 = rows[0][0]
    print(f"\n{'workers':>7s} {'extract pages/s':>16s} {'speedup':>8s} {'effic.':>7s} {'dedup pages/s':>14s} "
          f"{'speedup':>8s} {'effic.':>7s} {'job s':>7s}")
    for w, r in rows:
        sx, sd = base["extract_s"] / r["extract_s"], base["dedup_s"] / r["dedup_s"]
        ideal = w / w0
        note = "  (more workers than cores)" if w > cores else ""
        print(f"{w:7d} {n_pages / r['extract_s']:16.1f} {sx:8.2f} {sx / ideal:7.2f} {n_pages / r['dedup_s']:14.1f} "
              f"{sd:8.2f} {sd / ideal:7.2f} {r['total_s']:7.1f}{note}")
    print("efficiency = speedup over the first row / (workers / its workers); 1.00 is linear")


if __name__ == "__main__":
    main()
