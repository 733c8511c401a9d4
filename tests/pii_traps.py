"""A labelled set of PII false-positive traps in real page text (``../shared/data/html_extraction``).

Each trap is a span of a real page that a pattern recognizer may take for a phone number, an IP
address or a card number but that is not personal data. The categories follow what corrupted
real text before: DOIs and ISSNs in reference lists, page ranges, dates and times, prices,
counts, ids inside URLs and file names, forum comment ids, software versions, private and
reserved IP ranges. The patterns here only *find* candidates in the pages; they are written
independently of ``cc_cleaner.filters.pii_context`` and every candidate is kept, so the set
grows with the data and is not tuned to the rules."""

from __future__ import annotations

import re
from pathlib import Path

from realtext import clean_pages

CATEGORIES = {
    "doi": r"\b10\.\d{4,9}/[^\s\"<>]+",
    "issn_isbn": r"(?i)\b(?:e-?)?(?:issn|isbn)(?:-1[03])?:?\s*[\dX][\dX -]{7,16}[\dX]",
    "page_range": r"(?i)(?:\bpp?\.\s*\d{2,6}\s*[-–]\s*\d{2,6}|\b\d{1,4}\s*(?:\(\d{1,3}\))?:\s*\d{2,6}[-–]\d{2,6})",
    "citation": r"\b(?:19|20)\d{2};\s*\d+(?:\(\d+\))?:\s*\w+",
    "date": r"\b\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}(?:,?\s+\d{1,2}[:.]\d{2})?\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b",
    "price": r"(?:[$€£¥]\s?\d[\d,.]{3,}\d|\b\d[\d.,]{3,}\d\s?(?:€|EUR|USD|CHF|Euro)\b)",
    "count": r"\b\d{1,3}(?:[.,]\d{3}){2,}\b",
    "url_id": r"(?:https?://|www\.)\S*?\d{6,}\S*",
    "file_id": r"\b\d{7,}\.(?:jpe?g|png|gif|html?|pdf|webp)\b",
    "comment_id": r"#\d{5,}\b",
    "version": r"(?i)\b(?:version|build|release|v)\s*[\"']?\d+\.\d+\.\d+(?:\.\d+)+",
    "private_ip": r"\b(?:10|127|0)\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|\b192\.168\.\d{1,3}\.\d{1,3}\b|\b172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}\b",
    "cidr": r"\b\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}\b",
}
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_COMPILED = {k: re.compile(v) for k, v in CATEGORIES.items()}


def find_traps(root: Path) -> list[tuple[str, str, int, int, str]]:
    """(page id, line, start, end, category) for every trap; the line is the trap's context."""
    out = []
    for pid, text in clean_pages(root):
        for line in text.splitlines():
            if len(line) > 2000:
                continue
            for cat, rx in _COMPILED.items():
                for m in rx.finditer(line):
                    if cat == "count" and _IPV4.fullmatch(m.group()):
                        continue  # a dotted quad is an address, not a count
                    out.append((pid, line, m.start(), m.end(), cat))
    return out
