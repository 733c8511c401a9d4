"""Real clean page texts from ../shared/data, for precision and false-hit tests.

Ground-truth main text of the article benchmark, WCXB and the Chinese extraction set, and the
resiliparse-extracted text of the trafilatura evaluation pages: about 1,750 real pages in
English, German, Chinese and other languages. Cached per process."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=2)
def clean_pages(root: Path, extracted: bool = True) -> list[tuple[str, str]]:
    """(page id, text) of real pages with their boilerplate removed."""
    html = root / "html_extraction"
    out: list[tuple[str, str]] = []
    truth = json.loads((html / "article_extraction_benchmark" / "ground-truth.json").read_text())
    out += [(f"article/{k}", v["articleBody"]) for k, v in sorted(truth.items()) if v.get("articleBody")]
    for p in sorted((html / "wcxb_test" / "ground-truth").glob("*.json")):
        text = json.loads(p.read_text())["ground_truth"].get("main_content") or ""
        if text.strip():
            out.append((f"wcxb/{p.stem}", text))
    for p in sorted((html / "chinese_web_content_extraction" / "cleaned").glob("*.txt")):
        out.append((f"zh/{p.stem}", p.read_text(encoding="utf-8", errors="replace")))
    if extracted:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        base = html / "trafilatura_eval"
        for line in (base / "index.jsonl").read_text().splitlines():
            d = json.loads(line)
            raw = gzip.decompress((base / d["html_path"]).read_bytes())
            text = extract_plain_text(HTMLTree.parse_from_bytes(raw), main_content=True)
            if len(text) > 200:
                out.append((f"trafilatura_eval/{d['id']}", text))
    return out
