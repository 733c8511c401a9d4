"""What reading rights signals costs next to extraction (one core).

    python tests/bench/bench_rights.py

On every real page in ../shared/data/html_extraction: the time of the rights signal parsing
that ``extract`` does (headers, meta tags, licence links, JSON-LD, notices) beside the time of
trafilatura's extraction of the same pages, and the ratio (target: under 5%).
"""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import trafilatura  # noqa: E402

from cc_cleaner.filters.rights_signals import rights_table  # noqa: E402

from conftest import SHARED  # noqa: E402


def main() -> None:
    files = sorted((SHARED / "html_extraction").rglob("*.html.gz"))
    htmls = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in files]
    mb = sum(len(h.encode()) for h in htmls) / 1e6
    headers = ["X-Robots-Tag: noai\nLink: <https://creativecommons.org/licenses/by/4.0/>; rel=\"license\""] * len(htmls)
    t0 = time.perf_counter()
    table, _ = rights_table(htmls, headers)
    rights = time.perf_counter() - t0
    t0 = time.perf_counter()
    for h in htmls:
        trafilatura.extract(h, include_comments=False, deduplicate=False)
    extract = time.perf_counter() - t0
    print(f"{len(htmls)} real pages, {mb:.1f} MB of HTML")
    print(f"rights signals: {rights:.2f} s ({len(htmls) / rights:,.0f} pages/s, {1000 * rights / len(htmls):.2f} ms/page)")
    print(f"trafilatura:    {extract:.2f} s ({len(htmls) / extract:,.0f} pages/s, {1000 * extract / len(htmls):.2f} ms/page)")
    print(f"rights / extraction: {100 * rights / extract:.1f}%")
    print(f"pages with a declared licence: {len(htmls) - table['license'].null_count} (the header declares one for all)")


if __name__ == "__main__":
    main()
