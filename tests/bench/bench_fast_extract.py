"""The F1 / speed frontier of ways to extract main text, on both ground-truth sets.

    python tests/bench/bench_fast_extract.py [--only NAME,...]

For every candidate: mean token F1 on the article benchmark and on WCXB, and pages/s on one
core over all their pages (HTML decoded once beforehand, the same for all), next to trafilatura's
default (``trafilatura.extract`` with fallbacks). Candidates:

- ``trafilatura``: the default (baseline); ``trafilatura_fast``: ``fast=True`` (no fallbacks);
- ``resiliparse``: resiliparse's main-content text;
- ``hybrid``: resiliparse first, trafilatura (fast) only where resiliparse's text looks poor
  (short, or mostly short lines, or little of the page's visible text);
- ``pruned_fast``: trafilatura (fast) on the tree after resiliparse removed scripts, styles,
  navigation, headers, footers and forms.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from conftest import SHARED  # noqa: E402
from extraction_eval import article_benchmark, mean_f1, wcxb  # noqa: E402


def candidates() -> dict:
    import trafilatura
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    def traf(html: str, url: str) -> str:
        return trafilatura.extract(html, url=url or None, include_comments=False, deduplicate=False) or ""

    def traf_fast(html: str, url: str) -> str:
        return trafilatura.extract(html, url=url or None, include_comments=False, deduplicate=False, fast=True) or ""

    def resil(html: str, url: str) -> str:
        return extract_plain_text(HTMLTree.parse(html), main_content=True)

    out = {"trafilatura": traf, "trafilatura_fast": traf_fast, "resiliparse": resil}
    try:
        from cc_cleaner.filters.extract import fast_extract  # the shipped fast path
        out["fast (shipped)"] = lambda h, u: fast_extract(h, u) or ""
    except ImportError:
        pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    from cc_cleaner.pipeline.decode import decode_payload

    sets = {"article": article_benchmark(SHARED), "wcxb": wcxb(SHARED)}
    html = {p.id: decode_payload(p.html, "text/html", p.url)[0] for ps in sets.values() for p in ps}
    pages = [p for ps in sets.values() for p in ps]
    print(f"{len(pages)} pages ({', '.join(f'{k}={len(v)}' for k, v in sets.items())})")
    rows = {}
    for name, fn in candidates().items():
        if args.only and name not in args.only.split(","):
            continue
        t0 = time.perf_counter()
        out = {p.id: fn(html[p.id], p.url) for p in pages}
        secs = time.perf_counter() - t0
        rows[name] = (len(pages) / secs, {k: mean_f1(ps, out) for k, ps in sets.items()})
    base = rows.get("trafilatura")
    for name, (speed, f1) in rows.items():
        rel = f"{speed / base[0]:5.2f}x" if base else ""
        d = "  ".join(f"F1 {k} {v:.3f}" + (f" ({v - base[1][k]:+.3f})" if base else "") for k, v in f1.items())
        print(f"{name:18s} {speed:7.1f} pages/s {rel}  {d}")


if __name__ == "__main__":
    main()
