"""Main-content extraction ground truth from ../shared/data/html_extraction (tests and benchmarks)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from cc_cleaner.pipeline.text import token_f1


@dataclass
class Page:
    id: str
    url: str
    html: bytes
    truth: str


def article_benchmark(root: Path) -> list[Page]:
    base = root / "html_extraction" / "article_extraction_benchmark"
    truth = json.loads((base / "ground-truth.json").read_text())
    return [Page(k, v.get("url") or "", gzip.open(base / "html" / f"{k}.html.gz").read(), v["articleBody"])
            for k, v in sorted(truth.items()) if (base / "html" / f"{k}.html.gz").exists()]


def wcxb(root: Path) -> list[Page]:
    base = root / "html_extraction" / "wcxb_test"
    pages = []
    for gt in sorted((base / "ground-truth").glob("*.json")):
        d = json.loads(gt.read_text())
        html = base / "html" / f"{gt.stem}.html.gz"
        if html.exists() and d["ground_truth"].get("main_content"):
            pages.append(Page(gt.stem, d.get("url", ""), gzip.decompress(html.read_bytes()), d["ground_truth"]["main_content"]))
    return pages


def mean_f1(pages: list[Page], texts: dict[str, str]) -> float:
    """Mean token F1 over all pages; a page the pipeline dropped counts as an empty extraction."""
    return sum(token_f1(texts.get(p.id, ""), p.truth)[2] for p in pages) / max(1, len(pages))
