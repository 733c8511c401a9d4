"""Train the shipped quality model, ``filters/data/quality_web_article.ftz``.

Positives: the human-written main text of real pages (article_extraction_benchmark, MIT;
WCXB test split, CC-BY-4.0; the Chinese extraction set, MIT). Negatives: the rest of the same
pages, i.e. their navigation, footers, link lists and other boilerplate, cut into documents
of 5-40 text segments. So the model scores "reads like the main text of a page" (1) versus
"page furniture" (0): a cheap complement to the rule filters, not a replacement for a model
trained on a reference corpus (README: "Quality model").

    python jobs/examples/train_default_quality.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path

from cc_cleaner.jobs.train_quality import boilerplate_segments, train_quality

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "filters" / "data" / "quality_web_article.ftz"


def pages(shared: Path) -> list[tuple[bytes, str]]:
    out = []
    base = shared / "html_extraction" / "article_extraction_benchmark"
    for k, v in json.loads((base / "ground-truth.json").read_text()).items():
        out.append((gzip.decompress((base / "html" / f"{k}.html.gz").read_bytes()), v["articleBody"]))
    base = shared / "html_extraction" / "wcxb_test"
    for gt in sorted((base / "ground-truth").glob("*.json")):
        d = json.loads(gt.read_text())["ground_truth"]
        if d.get("main_content"):
            out.append((gzip.decompress((base / "html" / f"{gt.stem}.html.gz").read_bytes()), d["main_content"]))
    base = shared / "html_extraction" / "chinese_web_content_extraction"
    for p in sorted((base / "original").glob("*.html.gz")):
        c = base / "cleaned" / p.name.replace(".html.gz", ".txt")
        if c.exists():
            out.append((gzip.decompress(p.read_bytes()), c.read_text(encoding="utf-8", errors="replace")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    args = ap.parse_args()
    rng = random.Random(0)
    pos, neg = [], []
    for html, truth in pages(Path(args.shared)):
        pos.append(truth)
        rest = boilerplate_segments(html, truth)
        i = 0
        while i < len(rest):
            k = rng.randint(5, 40)
            chunk = rest[i:i + k]
            if sum(map(len, chunk)) >= 100:
                neg.append("\n".join(chunk))
            i += k
    rng.shuffle(neg)
    neg = neg[: 2 * len(pos)]  # keep the classes near balance
    report = train_quality(pos, neg, str(OUT), epoch=15, dim=16, bucket=200_000, quantize=True, cutoff=20_000,
                           seed=0)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
