"""Per-document costs that a capacity plan scales up: CPU seconds, bytes written, shuffle bytes and
peak worker memory per stage, for a full job (extract + filters, dedup_docs, dedup_strings, clean,
tokenize) on real pages.

    python tests/bench/bench_capacity.py [--workers 2] [--copies 1]

The input is every page of the extraction sets in ../shared/data (about 1,700 real pages);
``--copies`` repeats it (as near-duplicates with a changed first line) to see how the dedup
shuffles grow. Figures per stage: wall seconds, summed task seconds, docs in/out, output bytes per
document, shuffle bytes per input document (``_shuffle`` folders, by phase), peak RSS of one
worker process (VmHWM). README's capacity note is derived from these.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_extract import trafilatura_eval  # noqa: E402
from bench_scaling import STEPS  # noqa: E402

from cc_cleaner.jobs.report import load_report  # noqa: E402
from cc_cleaner.pipeline.engines import get_engine  # noqa: E402
from cc_cleaner.pipeline.job import parse_job  # noqa: E402
from cc_cleaner.pipeline.runner import run_job  # noqa: E402

from conftest import QUICKSTART, SHARED  # noqa: E402
from extraction_eval import article_benchmark, wcxb  # noqa: E402
from helpers import write_warc  # noqa: E402


def folder_bytes(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.exists() else 0


def worker_peaks(engine) -> list[int]:
    """VmHWM (peak resident set) of the local engine's worker processes, in bytes."""
    peaks = []
    for proc in getattr(getattr(engine, "_pool", None), "_processes", {}).values():
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) * 1024)
        except OSError:
            pass
    return peaks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--copies", type=int, default=1)
    args = ap.parse_args()
    pages = [p for loader in (article_benchmark, wcxb, trafilatura_eval) for p in loader(SHARED)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths, html_bytes = [], 0
        for c in range(args.copies):
            for f in range(8):
                chunk = [(f"https://copy{c}.example/{p.id}" if c else (p.url or f"https://bench.example/{p.id}"),
                          p.html.replace(b"<body", f"<body data-copy='{c}'".encode(), 1) if c else p.html, "text/html")
                         for p in pages[f::8]]
                html_bytes += sum(len(h) for _, h, _ in chunk)
                path = root / f"crawl-{c:02d}-{f:03d}.warc.gz"
                write_warc(path, chunk)
                paths.append(str(path))
        warc_bytes = sum(Path(p).stat().st_size for p in paths)
        n = len(pages) * args.copies
        print(f"input: {n} pages, {html_bytes / 1e6:.1f} MB HTML, {warc_bytes / 1e6:.1f} MB WARC.gz "
              f"({warc_bytes / n / 1e3:.1f} KB/page), {len(paths)} files; {args.workers} workers")
        stages = [{"name": "extract", "part_records": 2000, "steps": STEPS},
                  {"name": "dedup_docs", "partitions": 16,
                   "minhash": {"shingle": {"default": "word_5gram", "zh": "char_5gram"}}},
                  {"name": "dedup_strings", "lines": {"max_repeats": 3}, "substrings": {"min_tokens": 50},
                   "partitions": 16},
                  {"name": "clean", "steps": [{"pii": {}}, {"decontaminate": {
                      "benchmarks": ["gsm8k", "mmlu", "humaneval", "cmmlu", "ceval"]}}]},  # the shipped index
                  {"name": "tokenize", "tokenizer": {"tiktoken": "cl100k_base"}, "shard_tokens": 1_000_000}]
        out = root / "out"
        rows = []
        for k in range(1, len(stages) + 1):  # one stage per run, each on fresh workers (peak RSS per stage)
            job = parse_job({"name": "capacity", "seed": 1, "output": str(out),
                             "input": {"format": "warc", "paths": paths, "max_page_bytes": 50_000_000},
                             "stages": stages[:k]}, str(QUICKSTART.parent))
            engine = get_engine("local", args.workers)
            try:
                t0 = time.perf_counter()
                report = run_job(job, engine, progress=False)
                wall = time.perf_counter() - t0
                peak = max(worker_peaks(engine) or [0])
            finally:
                engine.close()
            st = report.stages[-1]
            name = stages[k - 1]["name"]
            shuffle = {p.name: folder_bytes(p) for p in sorted((out / name / "_shuffle").glob("*"))}
            rows.append((name, wall, st.tasks, peak, shuffle))
        rep = {s["stage"]: s for s in load_report(str(out))["stages"]}
        print(f"\n{'stage':14s} {'wall s':>7s} {'task s':>7s} {'tasks':>6s} {'docs in':>8s} {'docs out':>8s} "
              f"{'out KB/doc':>10s} {'shuffle KB/doc in':>17s} {'peak RSS MB':>11s}")
        for name, wall, tasks, peak, shuffle in rows:
            s = rep[name]
            data = folder_bytes(out / name / "data") + folder_bytes(out / name / "shards")
            shuf = sum(shuffle.values())
            print(f"{name:14s} {wall:7.1f} {s['seconds']:7.1f} {tasks:6d} {s['docs_in']:8d} {s['docs_out']:8d} "
                  f"{data / max(1, s['docs_out']) / 1e3:10.2f} {shuf / max(1, s['docs_in']) / 1e3:17.2f} "
                  f"{peak / 2**20:11.0f}")
            if shuffle:
                print("    shuffle by phase (KB/doc in): " + ", ".join(
                    f"{k}={v / max(1, s['docs_in']) / 1e3:.2f}" for k, v in shuffle.items()))
        tok = rep["tokenize"]
        print(f"\ntokens out: {tok['tokens_out']:,} ({tok['tokens_out'] / n:.0f} per input page); "
              f"kept {tok['docs_out'] / n:.1%} of pages")


if __name__ == "__main__":
    main()
