"""URL and word blocklists: lists the user passes (``file``, inline ``entries``) plus a small default."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
from pydantic import Field

from cc_cleaner.pipeline.step import Evaluation, FilterStep, Histogram, StepConfig, register

DATA = Path(__file__).parent / "data"


def read_list(path: str) -> list[str]:
    import fsspec

    with fsspec.open(path, "rt", encoding="utf-8", compression="infer") as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]


class BlocklistConfig(StepConfig):
    file: str | None = None  # one entry per line, '#' comments; any fsspec path
    entries: list[str] = []
    use_default: bool = True


def _load(cfg: BlocklistConfig, default: str, resolve) -> list[str]:
    items = list(cfg.entries)
    if cfg.use_default:
        items += read_list(str(DATA / default))
    if cfg.file:
        items += read_list(resolve(cfg.file))
    return items


def host_of(url: str | None) -> str:
    if not url:
        return ""
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


@register
class UrlBlocklist(FilterStep):
    """Drops documents whose host (or a parent domain) is listed, or whose URL holds a listed substring."""

    name = "url_blocklist"
    needs = frozenset({"url"})
    Config = BlocklistConfig
    config: BlocklistConfig

    def setup(self) -> None:
        items = _load(self.config, "url_blocklist.txt", self.ctx.resolve)
        self.domains = {i.lower().lstrip(".") for i in items if not i.startswith("url:")}
        self.substrings = [i[4:].lower() for i in items if i.startswith("url:")]

    def blocked(self, url: str | None) -> str | None:
        host = host_of(url)
        parts = host.split(".")
        if any(".".join(parts[i:]) in self.domains for i in range(len(parts))):
            return "blocked_domain"
        low = (url or "").lower()
        if any(s in low for s in self.substrings):
            return "blocked_url"
        return None

    def evaluate(self, table: pa.Table) -> Evaluation:
        return Evaluation({}, [self.blocked(u) for u in table["url"].to_pylist()])


class WordBlocklistConfig(BlocklistConfig):
    min_distinct_matches: int = Field(default=2, ge=1)  # distinct listed words needed to drop


@register
class WordBlocklist(FilterStep):
    """Counts distinct listed words in the text; drops at ``min_distinct_matches`` or more."""

    name = "word_blocklist"
    adds = frozenset({"blocklist_words"})
    Config = WordBlocklistConfig
    config: WordBlocklistConfig

    def setup(self) -> None:
        items = sorted({w.lower() for w in _load(self.config, "word_blocklist.txt", self.ctx.resolve)},
                       key=len, reverse=True)
        spaced = [re.escape(w) for w in items if re.search(r"[A-Za-z0-9]", w)]
        unspaced = [re.escape(w) for w in items if not re.search(r"[A-Za-z0-9]", w)]
        parts = []
        if spaced:
            parts.append(r"\b(?:" + "|".join(spaced) + r")\b")
        if unspaced:
            parts.append("(?:" + "|".join(unspaced) + ")")
        self.pattern = re.compile("|".join(parts), re.I) if parts else None

    def histograms(self) -> list[Histogram]:
        return [Histogram("blocklist_words", list(range(0, 11)) + [1e9], self.config.min_distinct_matches)]

    def evaluate(self, table: pa.Table) -> Evaluation:
        hits = []
        for text in table["text"].to_pylist():
            hits.append(len({m.lower() for m in self.pattern.findall(text or "")}) if self.pattern else 0)
        reasons = ["blocked_words" if h >= self.config.min_distinct_matches else None for h in hits]
        return Evaluation({"blocklist_words": pa.array(np.array(hits, dtype=np.int32))}, reasons)
