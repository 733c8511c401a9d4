"""The F1 / speed frontier of ways to extract main text, on both ground-truth sets.

    python tests/bench/bench_fast_extract.py [--only NAME,...]

For every candidate: mean token F1 on the article benchmark and on WCXB, and pages/s on one
core over all their pages (HTML decoded once beforehand, the same for all), next to trafilatura's
default (``trafilatura.extract`` with fallbacks). Candidates:

- ``trafilatura``: the default (baseline); ``trafilatura_fast``: ``fast=True`` (no fallbacks);
- ``resiliparse``: its main-content text with its defaults, and as the ``resiliparse`` backend
  runs it (no alt texts);
- ``hybrid``: resiliparse first, trafilatura only where resiliparse's main text is less than
  ``HYBRID_SHARE`` of the page's visible text (the feature that best predicts where trafilatura
  does better, correlation 0.42 with the F1 gain);
- ``pruned_fast``: trafilatura (fast) on the HTML after resiliparse removed scripts, styles,
  navigation, headers, footers, asides and forms.

Then the bound of any resiliparse-first hybrid: an oracle that knows each page's F1 under both
and sends trafilatura the pages where it gains most, for several shares of pages.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from cc_cleaner.filters.extract import resiliparse_text  # noqa: E402
from cc_cleaner.pipeline.text import token_f1  # noqa: E402

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

    def resil_default(html: str, url: str) -> str:
        return extract_plain_text(HTMLTree.parse(html), main_content=True)

    def hybrid(html: str, url: str) -> str:
        tree = HTMLTree.parse(html)
        main = extract_plain_text(tree, main_content=True, alt_texts=False)
        visible = extract_plain_text(tree, main_content=False, alt_texts=False)
        return main if len(main) >= HYBRID_SHARE * len(visible) else traf(html, url)

    def pruned_fast(html: str, url: str) -> str:
        tree = HTMLTree.parse(html)
        for node in tree.document.query_selector_all("script, style, nav, header, footer, form, aside, noscript"):
            if node.parent is not None:
                node.parent.remove_child(node)
        return traf_fast(str(tree), url)

    return {"trafilatura": traf, "trafilatura_fast": traf_fast, "resiliparse (defaults)": resil_default,
            "resiliparse (backend: no alt texts)": lambda h, u: resiliparse_text(h), "hybrid": hybrid,
            "pruned_fast": pruned_fast}


HYBRID_SHARE = 0.6  # the best single threshold on both sets together (in-sample: an optimistic figure)


def oracle(sets: dict, outs: dict, speeds: dict) -> None:
    """The best any resiliparse-first hybrid could do: trafilatura on the pages where it gains most."""
    base, fast = "trafilatura", "resiliparse (backend: no alt texts)"
    if base not in outs or fast not in outs:
        return
    pages = [p for ps in sets.values() for p in ps]
    gain = {p.id: token_f1(outs[base][p.id], p.truth)[2] - token_f1(outs[fast][p.id], p.truth)[2] for p in pages}
    order = sorted(gain, key=gain.__getitem__, reverse=True)
    cost = speeds[base] / speeds[fast]  # resiliparse's time per page, in trafilatura's
    for share in (0.1, 0.2, 0.3, 0.4):
        send = set(order[:int(share * len(order))])
        out = {k: outs[base if k in send else fast][k] for k in gain}
        d = "  ".join(f"F1 {k} {mean_f1(ps, out):.3f}" for k, ps in sets.items())
        print(f"oracle, {share:.0%} to trafilatura: {1 / (cost + share):5.2f}x  {d}")


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
    rows, outs = {}, {}
    for name, fn in candidates().items():
        if args.only and name not in args.only.split(","):
            continue
        t0 = time.perf_counter()
        outs[name] = {p.id: fn(html[p.id], p.url) for p in pages}
        secs = time.perf_counter() - t0
        rows[name] = (len(pages) / secs, {k: mean_f1(ps, outs[name]) for k, ps in sets.items()})
    base = rows.get("trafilatura")
    for name, (speed, f1) in rows.items():
        rel = f"{speed / base[0]:5.2f}x" if base else ""
        d = "  ".join(f"F1 {k} {v:.3f}" + (f" ({v - base[1][k]:+.3f})" if base else "") for k, v in f1.items())
        print(f"{name:36s} {speed:7.1f} pages/s {rel}  {d}")
    oracle(sets, outs, {k: v[0] for k, v in rows.items()})


if __name__ == "__main__":
    main()
