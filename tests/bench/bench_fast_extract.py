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
and sends trafilatura the pages where it gains most, for several shares of pages; and a learned
router: a ridge regression of that gain on cheap features of resiliparse's output and the page,
its predictions out of fold (5 folds, seeded), sending trafilatura the pages of highest predicted
gain per square root of HTML length, timed page by page (resiliparse, the visible text and the
features on every page, trafilatura on the pages sent).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

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


def router_features(main: str, visible: str, html: str) -> list[float]:
    """What a router may know at resiliparse's cost: sizes, the main text's share of the visible
    text and of the HTML, its line shapes and sentence punctuation, and some markup counts."""
    lines = [x for x in main.split("\n") if x.strip()]
    shown = sum(1 for x in visible.split("\n") if x.strip())
    low = html.lower()
    return [np.log1p(len(main)), np.log1p(len(visible)), len(main) / max(len(visible), 1), np.log1p(len(html)),
            np.log1p(len(lines)), np.mean([len(x) for x in lines]) / 100 if lines else 0.0,
            np.mean([len(x) < 40 for x in lines]) if lines else 1.0, len(lines) / max(shown, 1), float(not main),
            min(low.count("<p"), 500) / 100, float("<article" in low), float("<main" in low),
            sum(main.count(c) for c in ".!?。！？") / max(len(main), 1) * 10, np.log1p(low.count("<a ")),
            len(main) / max(len(html), 1) * 10]


def ridge_out_of_fold(x: np.ndarray, y: np.ndarray, folds: int = 5, lam: float = 1.0) -> np.ndarray:
    """Each page's prediction from a ridge regression fitted on the other folds only."""
    pred = np.zeros(len(y))
    for test in np.array_split(np.random.default_rng(1).permutation(len(y)), folds):
        train = np.setdiff1d(np.arange(len(y)), test)
        mu, sd = x[train].mean(0), x[train].std(0) + 1e-9
        z = np.c_[(x[train] - mu) / sd, np.ones(len(train))]
        w = np.linalg.solve(z.T @ z + lam * np.eye(z.shape[1]), z.T @ y[train])
        pred[test] = np.c_[(x[test] - mu) / sd, np.ones(len(test))] @ w
    return pred


def learned_router(sets: dict, html: dict) -> None:
    """Resiliparse first, trafilatura where a router trained out of fold predicts the largest gain."""
    import trafilatura
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    pages = [p for ps in sets.values() for p in ps]
    fast, slow, feats, t_fast, t_slow = {}, {}, [], [], []
    for p in pages:
        t0 = time.perf_counter()
        tree = HTMLTree.parse(html[p.id])
        fast[p.id] = extract_plain_text(tree, main_content=True, alt_texts=False)
        feats.append(router_features(fast[p.id], extract_plain_text(tree, main_content=False, alt_texts=False),
                                     html[p.id]))
        t1 = time.perf_counter()
        slow[p.id] = trafilatura.extract(html[p.id], url=p.url or None, include_comments=False,
                                         deduplicate=False) or ""
        t_fast.append(t1 - t0)
        t_slow.append(time.perf_counter() - t1)
    gain = np.array([token_f1(slow[p.id], p.truth)[2] - token_f1(fast[p.id], p.truth)[2] for p in pages])
    score = ridge_out_of_fold(np.array(feats), gain) / np.sqrt([max(1, len(html[p.id])) for p in pages])
    t_slow_a = np.array(t_slow)
    base = {k: mean_f1(ps, slow) for k, ps in sets.items()}
    for share in (0.15, 0.2, 0.25, 0.3):
        send = score > np.quantile(score, 1 - share)
        out = {p.id: (slow if sent else fast)[p.id] for p, sent in zip(pages, send, strict=True)}
        speed = t_slow_a.sum() / (sum(t_fast) + t_slow_a[send].sum())
        d = "  ".join(f"F1 {k} {mean_f1(ps, out):.3f} ({mean_f1(ps, out) - base[k]:+.3f})" for k, ps in sets.items())
        print(f"learned router, {share:.0%} to trafilatura: {speed:5.2f}x  {d}")


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
    if not args.only or "learned_router" in args.only.split(","):
        learned_router(sets, html)


if __name__ == "__main__":
    main()
