"""RefinedWeb line-wise corrections (Penedo et al. 2023, "The RefinedWeb Dataset for Falcon
LLM", appendix G.2).

A line is removed when it is mostly upper case, only digits and punctuation, a counter
("3 likes", "阅读 1024"), a single word, or a short line (at most 10 words) that carries a
navigation/boilerplate pattern at its start ("sign in"), end ("read more") or anywhere
("items in cart"). When the removed lines hold more than 5% of the document's words, the
document is dropped; otherwise it keeps the corrected text. Chinese/Japanese lines count
characters, so their "single word" is a line of at most 2 characters and "short" is 20.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pyarrow as pa

from cc_cleaner.filters.rules_base import Bound, RuleConfig, RuleFilter
from cc_cleaner.pipeline.step import Evaluation, register
from cc_cleaner.pipeline.text import word_bounds

_COUNTER = re.compile(
    r"^\s*(\d[\d,.]*\s*[kKmM万]?\s*(likes?|comments?|shares?|views?|replies|reply|retweets?|followers?|reviews?|"
    r"votes?|点赞|评论|回复|浏览|阅读|收藏|转发|赞)|(阅读|浏览|评论|点赞|收藏|转发)\s*[:：]?\s*\d[\d,.]*\s*[万]?)\s*$",
    re.I)
_ONLY_NUMERIC = re.compile(r"^[\d\s\W_]+$")
START = ["sign in", "sign up", "log in", "login", "register", "subscribe", "share", "posted by", "tags:",
         "home >", "skip to", "登录", "注册", "分享到", "首页 >", "当前位置", "上一篇", "下一篇", "返回"]
END = ["read more", "read more...", "click here", "continue reading", "learn more", "see more", "show more",
       "阅读全文", "点击查看", "查看更多", "更多>>"]
ANYWHERE = ["items in cart", "add to cart", "all rights reserved", "cookie", "javascript", "newsletter",
            "back to top", "返回顶部", "版权所有", "加入购物车", "扫一扫"]


class RefinedWebConfig(RuleConfig):
    max_uppercase_ratio: float = 0.5  # of cased letters; above it the line is removed
    min_line_words: int = 2  # lines with fewer words are removed
    short_line_words: int = 10  # boilerplate patterns only apply to lines this short
    start_patterns: list[str] = START
    end_patterns: list[str] = END
    anywhere_patterns: list[str] = ANYWHERE
    max_removed_word_ratio: float = 0.05  # above it the whole document is dropped


@register
class RefinedWeb(RuleFilter):
    name = "refinedweb"
    Config = RefinedWebConfig
    config: RefinedWebConfig
    language_defaults = {"zh": {"min_line_words": 3, "short_line_words": 20},
                         "ja": {"min_line_words": 3, "short_line_words": 20}}

    bounds = (Bound("max_removed_word_ratio", "refinedweb_removed_word_ratio", "too_many_corrected_lines",
                    (*(i / 100 for i in range(51)), 1.0)),)

    def evaluate(self, table: pa.Table) -> Evaluation:
        texts, ratios, reasons = [], [], []
        counters: dict[str, int] = {}
        for text, lang in zip(table["text"].to_pylist(), self.languages(table), strict=True):
            c = self.config_for(lang)
            kept, removed_words, total_words = [], 0, 0
            for line, n, cased, upper in line_counts(text):
                total_words += n
                why = line_problem(line, n, c, cased, upper)
                if why:
                    removed_words += n
                    counters[f"lines_removed:{why}"] = counters.get(f"lines_removed:{why}", 0) + 1
                else:
                    kept.append(line)
            ratio = removed_words / max(1, total_words)
            reason = "no_lines_left" if not kept else self.judge({"refinedweb_removed_word_ratio": ratio}, c)
            texts.append(text if reason else "\n".join(kept))
            ratios.append(ratio)
            reasons.append(reason)
        return Evaluation({"text": pa.array(texts, pa.string()),
                           "refinedweb_removed_word_ratio": pa.array(np.array(ratios, dtype=np.float32))},
                          reasons, counters)


@cache
def _case_flags(cp: int) -> tuple[bool, bool]:
    """(a cased letter, an upper-case one) for a code point."""
    ch = chr(cp)
    cased = ch.isalpha() and ch.lower() != ch.upper()
    return cased, cased and ch.isupper()


def line_counts(text: str) -> list[tuple[str, int, int, int]]:
    """Per non-empty line (stripped): (line, words, cased letters, upper-case letters), counted
    for the whole text at once with numpy (tokens never cross a line, nor does stripping cut one)."""
    cp, starts, _ = word_bounds(text)
    uniq, inv = np.unique(cp, return_inverse=True)
    flags = np.array([_case_flags(c) for c in uniq.tolist()], dtype=bool).reshape(-1, 2)
    cased = np.concatenate(([0], np.cumsum(flags[inv, 0], dtype=np.int64)))
    upper = np.concatenate(([0], np.cumsum(flags[inv, 1], dtype=np.int64)))
    out, pos, bounds = [], 0, []
    for raw in text.split("\n"):
        line = raw.strip()
        if line:
            a = pos + len(raw) - len(raw.lstrip())
            out.append(line)
            bounds.append((a, a + len(line)))
        pos += len(raw) + 1
    if not out:
        return []
    b = np.array(bounds, dtype=np.int64)
    n_words = np.searchsorted(starts, b[:, 1]) - np.searchsorted(starts, b[:, 0])
    return list(zip(out, n_words.tolist(), (cased[b[:, 1]] - cased[b[:, 0]]).tolist(),
                    (upper[b[:, 1]] - upper[b[:, 0]]).tolist(), strict=True))


def line_problem(line: str, n_words: int, c: RefinedWebConfig, cased: int, upper: int) -> str | None:
    if cased >= 4 and upper / cased > c.max_uppercase_ratio:
        return "uppercase"
    if _ONLY_NUMERIC.match(line):
        return "numeric"
    if _COUNTER.match(line):
        return "counter"
    if n_words < c.min_line_words:
        return "single_word"
    if n_words <= c.short_line_words:
        low = line.lower()
        if low.startswith(tuple(c.start_patterns)) or low.endswith(tuple(c.end_patterns)) or \
                any(p in low for p in c.anywhere_patterns):
            return "boilerplate_pattern"
    return None
