"""Extraction with language ID and four rule filters, against bare trafilatura and datatrove.

    python tests/bench/bench_peers.py [--datatrove-python PATH]

Every real page of ../shared/data/html_extraction in one WARC, one worker, in one run: for
each backend (trafilatura, resiliparse), the bare extractor on the pages in memory and
cc-cleaner's stage of ``bench_memory.py`` (extract, language, gopher_repetition, gopher_quality,
c4, fineweb; its default byte-budget parts) in a fresh process; and, given an interpreter with datatrove 0.10.1 (a venv of its own:
``pip install "datatrove[processing,io]==0.10.1" lxml_html_clean spacy``), datatrove's pipeline
of the same steps (``datatrove_job.py``). Prints pages/s per core, the ratio to the bare extractor,
the peak RSS of the worker (of datatrove's process and its extraction child) and the documents
kept. The filters' thresholds are each tool's own defaults, so the documents kept differ.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from cc_cleaner.pipeline.fasttext import lid_model_path  # noqa: E402

from conftest import SHARED  # noqa: E402
from helpers import write_warc  # noqa: E402


def bare(pages: list[tuple[str, bytes, str]], backend: str) -> float:
    """Seconds of the bare extractor over the pages in memory (as ``bench_extract.py`` calls it)."""
    from bench_extract import run_bare

    from extraction_eval import Page

    return run_bare([Page(url, url, html, "") for url, html, _ in pages], backend)[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datatrove-python", help="an interpreter with datatrove 0.10.1 installed")
    args = ap.parse_args()
    files = sorted((SHARED / "html_extraction").rglob("*.html.gz"))
    pages = [(f"https://bench.example/{i}", gzip.decompress(p.read_bytes()), "text/html") for i, p in enumerate(files)]
    n = len(pages)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        (tmp / "warc").mkdir()
        warc = tmp / "warc" / "all.warc.gz"
        # (datatrove keeps a record without a payload type only if libmagic calls it HTML)
        write_warc(warc, pages, {"WARC-Identified-Payload-Type": "text/html"})
        print(f"{n} pages, {sum(len(h) for _, h, _ in pages) / 1e6:.0f} MB of HTML, one WARC, one worker")
        rows = []
        for backend in ("trafilatura", "resiliparse"):
            bare_s = bare(pages, backend)
            rows.append((f"bare {backend}", bare_s, bare_s, None, None))
            out = subprocess.run([sys.executable, str(HERE / "bench_memory.py"), "--one", str(warc),
                                  str(tmp / f"ours-{backend}"), str(32 << 20), backend],
                                 check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            r = json.loads(out)
            rows.append((f"cc-cleaner stage, {backend} + language + 4 filters", bare_s, r["seconds"], r["rss_mb"],
                         r["docs"]))
        bare_s = rows[0][1]  # datatrove against bare trafilatura
        if args.datatrove_python:
            out = subprocess.run([args.datatrove_python, str(HERE / "datatrove_job.py"), str(tmp / "warc"),
                                  str(tmp / "datatrove"), lid_model_path()],
                                 check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            r = json.loads(out)
            rows.append(("datatrove 0.10.1, trafilatura + the same steps", bare_s, r["seconds"], r["rss_mb"], r["docs"]))
        else:
            print("datatrove: skipped (pass --datatrove-python)")
        for label, base, secs, rss, docs in rows:
            extra = f"  peak RSS {rss:5.0f} MB  {docs} documents kept" if rss is not None else ""
            print(f"  {label:52s} {n / secs:6.1f} pages/s  {base / secs:5.2f}x its bare extractor{extra}")


if __name__ == "__main__":
    main()
