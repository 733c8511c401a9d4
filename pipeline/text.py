"""Language-aware text units: words for space-separated scripts, characters for Chinese,
Japanese and Thai (which do not separate words by spaces; Korean does, so it counts words)."""

from __future__ import annotations

import re
from collections import Counter

# Han, Hiragana, Katakana, Thai: one token per character.
_CHAR_SCRIPTS = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
_TOKEN = re.compile(rf"[{_CHAR_SCRIPTS}]|[^\W{_CHAR_SCRIPTS}]+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_LETTER = re.compile(r"[^\W\d_]")

CHAR_LANGUAGES = frozenset({"zh", "ja", "th", "wuu", "yue", "lzh"})

# Sentence-final punctuation, Latin and CJK (incl. closing quotes after a full stop).
TERMINAL_PUNCT = frozenset(".!?\"'”’…。！？」』）)")


def words(text: str) -> list[str]:
    """Word tokens (punctuation dropped); every Han/Kana/Thai character is one token."""
    return _TOKEN.findall(text)


def tokens(text: str) -> list[str]:
    """Lower-cased ``words``; the unit of n-gram shingles and F1 scores."""
    return _TOKEN.findall(text.lower())


def script_language(text: str) -> str:
    """A guess from the script alone, for documents without a ``lang`` column: zh, ja, th or und."""
    sample = text[:2000]
    letters = len(_LETTER.findall(sample))
    if not letters:
        return "und"
    han, kana, thai = len(_HAN.findall(sample)), len(_KANA.findall(sample)), len(_THAI.findall(sample))
    if (han + kana) / letters > 0.3:
        return "ja" if kana > 0.1 * (han + kana) else "zh"
    if thai / letters > 0.3:
        return "th"
    return "und"


def token_f1(predicted: str, truth: str) -> tuple[float, float, float]:
    """Bag-of-tokens precision, recall and F1 (the usual main-content extraction score)."""
    p, t = Counter(tokens(predicted)), Counter(tokens(truth))
    overlap = sum((p & t).values())
    if not p or not t:
        return (float(not p and not t),) * 3
    prec, rec = overlap / sum(p.values()), overlap / sum(t.values())
    f1 = 0.0 if overlap == 0 else 2 * prec * rec / (prec + rec)
    return prec, rec, f1


# A sentence ends at . ! ? ; (and their CJK forms), with closing quotes or brackets after it,
# followed by white space; CJK terminators end a sentence without a space.
_SENTENCE_END = re.compile(r"[.!?;…][\"'”’)\]」』]*(?=\s)|[。！？；][\"'”’）」』]*")


def sentence_units(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence, within lines: the smallest units a cut may remove whole.

    A line is one unit or several; a unit never crosses a line break, and the white space
    between units belongs to neither."""
    units = []
    pos = 0
    for line in text.split("\n"):
        start = pos
        for m in _SENTENCE_END.finditer(line):
            units.append((start, pos + m.end()))
            start = pos + m.end()
        if start < pos + len(line):
            units.append((start, pos + len(line)))
        pos += len(line) + 1
    return [(a, b) for a, b in units if text[a:b].strip()]
