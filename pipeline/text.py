"""Language-aware text units: words for space-separated scripts, characters for CJK and Thai."""

from __future__ import annotations

import re
from collections import Counter

# Han, Hiragana, Katakana, Hangul syllables, Thai, CJK punctuation-free ranges.
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u0e00-\u0e7f"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; every CJK/Thai character is one token."""
    return _TOKEN.findall(text.lower())


def token_f1(predicted: str, truth: str) -> tuple[float, float, float]:
    """Bag-of-tokens precision, recall and F1 (the usual main-content extraction score)."""
    p, t = Counter(tokens(predicted)), Counter(tokens(truth))
    overlap = sum((p & t).values())
    if not p or not t:
        return (float(not p and not t),) * 3
    prec, rec = overlap / sum(p.values()), overlap / sum(t.values())
    f1 = 0.0 if overlap == 0 else 2 * prec * rec / (prec + rec)
    return prec, rec, f1
