"""Extraction benchmark: throughput of a cc-cleaner job (WARC in, Parquet out, one worker) next to
bare ``trafilatura.extract`` on the same pages, and token-level F1 against ground truth.

    python tests/bench/bench_extract.py [--sets article,wcxb,trafilatura_eval] [--backend trafilatura]

Prints pages/s per core for both, the overhead ratio (ours / bare), and mean F1 per set.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow.parquet as pq  # noqa: E402

from cc_cleaner.pipeline.documents import make_doc_id  # noqa: E402
from cc_cleaner.pipeline.engines import get_engine  # noqa: E402
from cc_cleaner.pipeline.job import parse_job  # noqa: E402

from conftest import SHARED  # noqa: E402
from extraction_eval import Page, article_benchmark, mean_f1, wcxb  # noqa: E402
from helpers import write_warc  # noqa: E402


def trafilatura_eval(root: Path) -> list[Page]:
    base = root / "html_extraction" / "trafilatura_eval"
    pages = []
    for line in (base / "index.jsonl").read_text().splitlines():
        d = json.loads(line)
        p = base / d["html_path"]
        if p.exists():
            pages.append(Page(str(d["id"]), d.get("url") or "", gzip.decompress(p.read_bytes()), ""))
    return pages


def crawl_url(p: Page) -> str:
    """The page's URL when it is an http(s) one, else a made-up one (a WARC capture is HTTP)."""
    return p.url if p.url.startswith(("http://", "https://")) and " " not in p.url else f"https://bench.example/{p.id}"


def run_ours(pages: list[Page], backend: str, tmp: Path) -> tuple[float, dict[str, str]]:
    warc = tmp / "pages.warc.gz"
    write_warc(warc, [(crawl_url(p), p.html, "text/html") for p in pages])
    job = parse_job({"name": "bench", "output": str(tmp / "out"),
                     "input": {"format": "warc", "paths": [str(warc)], "max_page_bytes": 50_000_000},
                     "stages": [{"name": "extract", "part_records": 500,
                                 "steps": [{"extract": {"backend": backend}}]}]}, str(tmp))
    from cc_cleaner.pipeline.runner import run_job

    engine = get_engine("local", 1)
    engine.run([0], abs)  # start the worker before the clock starts
    t0 = time.perf_counter()
    run_job(job, engine, progress=False)
    secs = time.perf_counter() - t0
    engine.close()
    texts = {}
    for f in sorted((tmp / "out" / "extract" / "data").glob("*.parquet")):
        t = pq.read_table(f, columns=["id", "text"])
        texts.update(zip(t["id"].to_pylist(), t["text"].to_pylist(), strict=True))
    # Map our ids back to page ids (write_warc derives record ids from file name, index and url).
    by_id = {}
    for i, p in enumerate(pages):
        rid = uuid.uuid5(uuid.NAMESPACE_URL, f"{warc.name}:{i}:{crawl_url(p)}")
        by_id[p.id] = texts.get(make_doc_id("warc", f"<urn:uuid:{rid}>"), "")
    return secs, by_id


def run_bare(pages: list[Page], backend: str) -> tuple[float, dict[str, str]]:
    if backend == "trafilatura":
        import trafilatura

        def fn(html: bytes, url: str) -> str | None:
            return trafilatura.extract(html, url=url or None, include_comments=False, deduplicate=False)
    else:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding
        from resiliparse.parse.html import HTMLTree

        def fn(html: bytes, url: str) -> str | None:
            return extract_plain_text(HTMLTree.parse(bytes_to_str(html, detect_encoding(html))), main_content=True)
    import logging

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    out = {}
    t0 = time.perf_counter()
    for p in pages:
        out[p.id] = fn(p.html, p.url) or ""
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="article,wcxb,trafilatura_eval")
    ap.add_argument("--backend", default="trafilatura", choices=["trafilatura", "resiliparse"])
    args = ap.parse_args()
    loaders = {"article": article_benchmark, "wcxb": wcxb, "trafilatura_eval": trafilatura_eval}
    sets = {name: loaders[name](SHARED) for name in args.sets.split(",")}
    pages = [p for ps in sets.values() for p in ps]
    mb = sum(len(p.html) for p in pages) / 1e6
    print(f"pages: {len(pages)} ({mb:.1f} MB of HTML) from {', '.join(f'{k}={len(v)}' for k, v in sets.items())}")
    bare_s, bare_txt = run_bare(pages, args.backend)
    with tempfile.TemporaryDirectory() as tmp:
        ours_s, ours_txt = run_ours(pages, args.backend, Path(tmp))
    print(f"bare {args.backend}.extract : {len(pages) / bare_s:7.1f} pages/s per core ({bare_s:.1f}s)")
    print(f"cc-cleaner job (1 worker)   : {len(pages) / ours_s:7.1f} pages/s per core ({ours_s:.1f}s, "
          "WARC read + decode + extract + Parquet write + stats)")
    print(f"overhead ratio ours/bare throughput: {bare_s / ours_s:.3f}")
    for name, ps in sets.items():
        if name == "trafilatura_eval":
            continue  # snippet ground truth only, no full text
        print(f"F1 {name:8s} ({len(ps)} pages): cc-cleaner {mean_f1(ps, ours_txt):.3f}   bare {mean_f1(ps, bare_txt):.3f}")


if __name__ == "__main__":
    main()
