"""The whole job against the bare extractor, one worker, in the same run.

    python tests/bench/bench_job.py [--backend trafilatura,resiliparse] [--rounds 1]

Input: the 1,676 real pages of ../shared/data/html_extraction in one WARC, and a robots.txt table
giving every host of those pages one of the real robots.txt files of ../shared/data/robots_txt.
Job: extract (+ robots, language and 4 rule filters) -> dedup_docs -> dedup_strings -> clean
(PII + decontamination, shipped index) -> tokenize, local engine, one worker started before the
clock, the decontamination index built (once per machine) before it. Prints pages/s of the job
and of the bare extractor on the same pages (ratio: goal >= 0.75 for trafilatura, >= 0.5 for
resiliparse), the wall seconds per stage from ``stats``, the best ratio the extract stage's steps
alone would allow, and how much of the job's wall time the stats account for. ``--rounds N`` alternates N bare runs with N job runs and divides the summed times,
so that a machine whose speed drifts weighs on both alike.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_extract import crawl_url, run_bare, trafilatura_eval  # noqa: E402

from cc_cleaner.filters.decontaminate import DecontaminateConfig, mapped_index  # noqa: E402
from cc_cleaner.jobs.report import load_report  # noqa: E402
from cc_cleaner.pipeline.engines import get_engine  # noqa: E402
from cc_cleaner.pipeline.job import parse_job  # noqa: E402
from cc_cleaner.pipeline.runner import run_job  # noqa: E402

from conftest import SHARED  # noqa: E402
from extraction_eval import article_benchmark, wcxb  # noqa: E402
from helpers import write_warc  # noqa: E402


def robots_table(urls: list[str], path: Path) -> None:
    """One real robots.txt file per host of ``urls`` (drawn at random, seeded)."""
    with tarfile.open(SHARED / "robots_txt" / "protego_real_robots" / "robots_txt_files.tar.gz") as tar:
        bodies = [tar.extractfile(m).read().decode("utf-8", "replace") for m in tar if m.isfile()]
    rng = random.Random(1)
    hosts = sorted({urlsplit(u).netloc for u in urls})
    path.write_text("".join(json.dumps({"url": f"https://{h}/robots.txt", "status": 200, "body": rng.choice(bodies),
                                        "fetch_time": "2024-01-02", "location": ""}) + "\n" for h in hosts))


def run_whole_job(tmp: Path, warc: Path, table: Path, backend: str) -> tuple[float, dict]:
    out = tmp / f"out-{backend}"
    shutil.rmtree(out, ignore_errors=True)
    job = parse_job({"name": "bench", "seed": 1, "output": str(out),
                     "input": {"format": "warc", "paths": [str(warc)], "max_page_bytes": 50_000_000},
                     "stages": [
                         {"name": "extract", "steps": [
                             {"extract": {"backend": backend}}, {"robots": {"table": str(table), "partitions": 4}},
                             {"language": {"keep": ["en", "zh", "de", "fr", "es", "ru", "ja", "pt", "it"],
                                           "min_score": 0.5}},
                             {"gopher_repetition": {}}, {"gopher_quality": {}}, {"c4": {}}, {"fineweb": {}}]},
                         {"name": "dedup_docs", "partitions": 4,
                          "minhash": {"shingle": {"default": "word_5gram", "zh": "char_5gram"}}},
                         {"name": "dedup_strings", "lines": {"max_repeats": 3}, "substrings": {"min_tokens": 50},
                          "partitions": 4},
                         {"name": "clean", "steps": [{"pii": {}}, {"decontaminate": {}}]},
                         {"name": "tokenize", "tokenizer": {"tiktoken": "cl100k_base"}, "shard_tokens": 1_000_000}]},
                    str(tmp))
    engine = get_engine("local", 1)
    try:
        engine.run([0], abs)  # start the worker before the clock starts
        t0 = time.perf_counter()
        run_job(job, engine, progress=False)
        secs = time.perf_counter() - t0
    finally:
        engine.close()
    return secs, load_report(str(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="trafilatura,resiliparse")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    pages = [p for loader in (article_benchmark, wcxb, trafilatura_eval) for p in loader(SHARED)]
    n = len(pages)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        warc, table = tmp / "pages.warc.gz", tmp / "robots.jsonl"
        write_warc(warc, [(crawl_url(p), p.html, "text/html") for p in pages])
        robots_table([crawl_url(p) for p in pages], table)
        print(f"{n} real pages, {sum(len(p.html) for p in pages) / 1e6:.0f} MB of HTML, one WARC, one worker")
        t0 = time.perf_counter()
        mapped_index(DecontaminateConfig(), str)  # what a machine's first job builds, then every job maps
        print(f"decontamination index made ready to map, once per machine (cached on disk, not in the timings"
              f" below): {time.perf_counter() - t0:.1f} s")
        for backend in args.backend.split(","):
            bare_s = job_s = 0.0
            for _ in range(args.rounds):
                bare_s += run_bare(pages, backend)[0]
                secs, rep = run_whole_job(tmp, warc, table, backend)
                job_s += secs
            bare_s, job_s = bare_s / args.rounds, job_s / args.rounds
            walls = {s["stage"]: s.get("wall_seconds", 0.0) for s in rep["stages"]}
            print(f"\n[{backend}] bare extract {n / bare_s:6.1f} pages/s ({bare_s:.1f} s); whole job "
                  f"{n / job_s:6.1f} pages/s ({job_s:.1f} s); ratio {bare_s / job_s:.2f}")
            for s in rep["stages"]:
                phases = ", ".join(f"{k} {v:.1f}" for k, v in s.get("phase_seconds", {}).items())
                print(f"  {s['stage']:14s} wall {walls[s['stage']]:6.1f} s  in steps {s['seconds']:6.1f} s  "
                      f"docs {s['docs_in']} -> {s['docs_out']}  ({phases})")
                if s.get("steps"):
                    print("      steps: " + ", ".join(f"{x['name']} {x['seconds']:.1f}" for x in s["steps"]))
            first = rep["stages"][0]
            print(f"  the extract stage's steps alone (extraction with the rights scan, robots, language and the"
                  f" filters) take {first['seconds']:.1f} s: with reading, writing and every later stage free,"
                  f" the ratio could be at most {bare_s / max(first['seconds'], 1e-9):.2f}")
            print(f"  stats account for {sum(walls.values()):.1f} s of the last run's {secs:.1f} s "
                  f"({sum(walls.values()) / secs:.1%}); problems: {rep['problems'] or 'none'}")


if __name__ == "__main__":
    main()
