"""Text units, the one home of tokenizing: words for space-separated scripts, one token per
character for Chinese, Japanese and Thai (which do not separate words by spaces; Korean does, so
it counts words), all from one table of script ranges.

Two forms of the tokens: ``words``/``tokens`` (strings, for rule filters and scores) and
``token_spans`` (offsets and 64-bit hashes from one pass over the code points with numpy, for
dedup and decontamination: a lookup table marks word characters, each token's hash is a
polynomial prefix-hash difference, k-grams combine consecutive token hashes). ``word_spans`` is
the numpy form of exactly ``tokens`` (its table is the regex's own classes; ``token_spans`` also
counts Thai marks and some symbols above U+3400 as word characters). All hash arithmetic wraps
modulo 2^64.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from itertools import islice
from typing import Any

import numpy as np

# Scripts written without spaces between words: every character is a token.
CHAR_SCRIPTS = {"thai": ((0x0E00, 0x0E7F),), "kana": ((0x3040, 0x30FF),),
                "han": ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))}


def _char_class(*scripts: str) -> str:
    return "".join(f"{chr(lo)}-{chr(hi)}" for s in scripts for lo, hi in CHAR_SCRIPTS[s])


_SINGLE = _char_class(*CHAR_SCRIPTS)
_TOKEN = re.compile(rf"[{_SINGLE}]|[^\W{_SINGLE}]+", re.UNICODE)

# Sentence-final punctuation, Latin and CJK (incl. closing quotes after a full stop).
TERMINAL_PUNCT = frozenset(".!?\"'”’…。！？」』）)")


def words(text: str) -> list[str]:
    """Word tokens (punctuation dropped); every Han/Kana/Thai character is one token."""
    return _TOKEN.findall(text)


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as uint32, indexed like the string (lone surrogates kept)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def has_words(text: str, n: int) -> bool:
    """Whether ``text`` holds at least ``n`` words (it stops looking at the n-th)."""
    return sum(1 for _ in islice(_TOKEN.finditer(text), n)) >= n


def tokens(text: str) -> list[str]:
    """Lower-cased ``words``; the unit of n-gram shingles and F1 scores."""
    return _TOKEN.findall(text.lower())


def table_languages(table: Any) -> list[str]:
    """Per row of a document table: its ``lang`` column when language ID ran, else ``script_language``."""
    if "lang" in table.column_names:
        return [lang or "und" for lang in table["lang"].to_pylist()]
    return [script_language(t or "") for t in table["text"].to_pylist()]


def script_language(text: str) -> str:
    """A guess from the script alone, for documents without a ``lang`` column: zh, ja, th or und."""
    cp = code_points(text[:2000])
    letters = int(regex_class(r"[^\W\d_]")[cp].sum())
    if not letters:
        return "und"
    _, han, kana, thai = np.bincount(_script_codes()[cp], minlength=4).tolist()
    if (han + kana) / letters > 0.3:
        return "ja" if kana > 0.1 * (han + kana) else "zh"
    if thai / letters > 0.3:
        return "th"
    return "und"


@lru_cache(maxsize=1)
def _script_codes() -> np.ndarray:
    """Code point -> 1 Han, 2 Kana, 3 Thai, 0 any other."""
    codes = np.zeros(0x110000, dtype=np.uint8)
    for code, script in enumerate(("han", "kana", "thai"), 1):
        for lo, hi in CHAR_SCRIPTS[script]:
            codes[lo:hi + 1] = code
    return codes


@lru_cache(maxsize=4)
def regex_class(pattern: str) -> np.ndarray:
    """For every code point: does the one-character regex ``pattern`` match it (a lookup table
    that numpy indexes with code points, in place of the regex)."""
    every = "".join(map(chr, range(0x110000)))
    # The pattern matches one character at a time, so the substitution keeps positions in place.
    hit = code_points(re.sub(pattern, "\0", every)) == 0
    hit[0] = bool(re.fullmatch(pattern, "\0"))
    return hit


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


# --- token offsets and hashes (numpy) ----------------------------------------------------------

_P = np.uint64(0x100000001B3)  # odd: invertible modulo 2^64
_P_INV = np.uint64(pow(0x100000001B3, -1, 1 << 64))


@lru_cache(maxsize=1)
def _classes() -> tuple[np.ndarray, np.ndarray]:
    """(is word character, is a one-character-token script) for every code point."""
    word = np.zeros(0x110000, dtype=bool)
    for cp in range(0x3400):  # below the CJK blocks: ask Python once per code point
        word[cp] = chr(cp).isalnum() or cp == 0x5F
    word[0x3400:] = True
    for lo, hi in [(0x3000, 0x303F), (0xFF00, 0xFF0F), (0xFF1A, 0xFF20), (0xFE30, 0xFE4F), (0xD800, 0xDFFF),
                   (0xE000, 0xF8FF), (0x2000, 0x206F)]:
        word[lo:hi + 1] = False
    single = np.zeros(0x110000, dtype=bool)
    for lo, hi in (r for ranges in CHAR_SCRIPTS.values() for r in ranges):
        single[lo:hi + 1] = True
    for lo, hi in CHAR_SCRIPTS["thai"]:  # Thai marks are not alphanumeric, yet belong to their syllable
        word[lo:hi + 1] = True
    return word, single


@lru_cache(maxsize=1)
def _class_bits() -> np.ndarray:
    """Code point -> 1 if a word character, + 2 if a one-character-token script (``_classes``)."""
    word, single = _classes()
    return word.astype(np.uint8) | (single.astype(np.uint8) << 1)


@lru_cache(maxsize=1)
def _fold_class_bits() -> np.ndarray:
    """``_class_bits`` of each code point's folded form (``_fold_table``)."""
    return _class_bits()[_fold_table()]


def single_char_script(cp: np.ndarray) -> np.ndarray:
    """For code points: True for Han, Kana and Thai, whose every character is a token."""
    return _classes()[1][cp]


_POW: list[np.ndarray] = []


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P^i and P^-i for i < n, from a table grown by doubling and kept for the process."""
    if not _POW or len(_POW[0]) < n:
        size = max(n, 2 * len(_POW[0]) if _POW else 1 << 16)
        with np.errstate(over="ignore"):
            p = np.cumprod(np.full(size, _P, dtype=np.uint64), dtype=np.uint64)
            q = np.cumprod(np.full(size, _P_INV, dtype=np.uint64), dtype=np.uint64)
        _POW[:] = [np.concatenate(([np.uint64(1)], p[:-1])), np.concatenate(([np.uint64(1)], q[:-1]))]
    return _POW[0][:n], _POW[1][:n]


def span_hashes(cp: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Hash of cp[s:e] for each span (a token's hash), via prefix sums of cp[j] * P^-j."""
    n = len(cp)
    pw, inv = _powers(n + 1)
    with np.errstate(over="ignore"):
        x = cp.astype(np.uint64)  # in place from here: each full-length temporary costs a pass
        x += np.uint64(1)
        x *= inv[:n]
        g = np.empty(n + 1, dtype=np.uint64)
        g[0] = 0
        np.cumsum(x, dtype=np.uint64, out=g[1:])
        return (g[ends] - g[starts]) * pw[ends - 1] + (ends - starts).astype(np.uint64)


def token_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the lower-cased word tokens of ``text`` (CJK: one per character)."""
    return token_spans(text)[2]


@lru_cache(maxsize=1)
def traditional_to_simplified() -> dict[str, str]:
    """Each traditional Chinese character's simplified form, from OpenCC's character table (its
    first reading where it gives several: 儘 -> 尽)."""
    from importlib.resources import files

    out = {}
    for line in (files("opencc") / "dictionary" / "TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        trad, _, readings = line.partition("\t")
        simp = readings.split()[0] if readings.split() else ""
        if len(trad) == 1 and len(simp) == 1 and simp != trad:
            out[trad] = simp
    return out


@lru_cache(maxsize=1)
def _fold_table() -> np.ndarray:
    """Code point -> its NFKC, lower-cased form where that is one character (full-width Ａ１ -> a1,
    ligatures and compatibility forms -> their letters), a traditional Chinese character -> the
    simplified one (a question reposted in the other script reads the same); ``_`` becomes a
    space (fill-in blanks)."""
    import unicodedata

    tab = np.arange(0x110000, dtype=np.uint32)
    for cp in range(0x80, 0x10000):
        c = unicodedata.normalize("NFKC", chr(cp)).lower()
        if len(c) == 1:
            tab[cp] = ord(c)
    folded = tab.copy()
    for trad, simp in traditional_to_simplified().items():
        tab[ord(trad)] = folded[ord(simp)]
    tab[0x41:0x5B] += 32
    tab[tab == 0x5F] = 0x20  # _ and its full-width and other compatibility forms
    return tab


def token_spans(text: str, fold: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, hash) of every word token; offsets index the Python string.

    ``fold``: compare as a reader would, ignoring full-width forms and other compatibility
    variants (NFKC, per character) and traditional or simplified Chinese, and dropping tokens
    that are one ASCII letter (option labels "A." "(b)", the article "a"), so reformatted copies
    of a text hash alike."""
    empty = np.empty(0, dtype=np.int64)
    if not text:
        return empty, empty, np.empty(0, dtype=np.uint64)
    if fold:
        raw = code_points(text)
        cp = _fold_table()[raw]
    else:
        low = text.lower()
        if len(low) != len(text):  # a few characters change length when lower-cased (e.g. U+0130)
            low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        cp = code_points(low)
    bits = (_fold_class_bits()[raw] if fold else _class_bits()[cp])  # one lookup for both classes
    starts, ends = _token_bounds((bits & 1).view(bool), (bits >> 1).view(bool))
    if fold:
        c0 = cp[starts]
        keep = (ends - starts > 1) | (c0 < 0x61) | (c0 > 0x7A)
        starts, ends = starts[keep], ends[keep]
    return starts, ends, span_hashes(cp, starts, ends)


def _token_bounds(w: np.ndarray, single: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Token starts and ends from per-character classes: a token is a run of word characters or
    one single-char-script character."""
    # A token starts at a word char that follows a non-word char, or at any single-char token,
    # or right after one.
    prev_w = np.concatenate(([False], w[:-1]))
    prev_single = np.concatenate(([False], single[:-1]))
    start = w & (~prev_w | single | prev_single)
    nxt_w = np.concatenate((w[1:], [False]))
    nxt_single = np.concatenate((single[1:], [False]))
    end = w & (~nxt_w | single | nxt_single)
    return np.flatnonzero(start), np.flatnonzero(end) + 1


def word_bounds(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code points, token starts, token ends) of ``words(text)``: the same tokens, as numpy
    arrays (about 3x faster than the regex and the strings it builds)."""
    cp = code_points(text)
    if not len(cp):
        return cp, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    single = _classes()[1][cp]
    starts, ends = _token_bounds(regex_class(r"\w")[cp] | single, single)
    return cp, starts, ends


def word_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(length, hash) of every token of ``tokens(text)``, in order."""
    cp, starts, ends = word_bounds(text.lower())
    return ends - starts, span_hashes(cp, starts, ends)


def char_hashes(text: str) -> np.ndarray:
    cp = np.frombuffer("".join(text.lower().split()).encode("utf-32-le"), dtype=np.uint32)
    return cp.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1)


KGRAM_MUL = np.uint64(0x9E3779B97F4A7C15)


def kgram_hashes(units: np.ndarray, k: int) -> np.ndarray:
    """Rolling 64-bit hash of every run of ``k`` consecutive unit hashes (len - k + 1 of them):
    h_k = h_(k-1)[:-1] * KGRAM_MUL + units[k-1:], so grams of several lengths come from one pass."""
    h = units.copy()
    with np.errstate(over="ignore"):
        for j in range(1, k):
            h = h[:-1] * KGRAM_MUL + units[j:]
    return h


def covered_runs(n_tokens: int, positions: np.ndarray, k: int, min_run: int = 1) -> list[tuple[int, int]]:
    """Token runs [a, b) covered by k-grams starting at ``positions``, of at least ``min_run`` tokens."""
    covered = np.zeros(n_tokens + 1, dtype=np.int64)
    p = np.asarray(positions, dtype=np.int64)
    np.add.at(covered, p, 1)
    np.add.at(covered, np.minimum(p + k, n_tokens), -1)
    mask = np.cumsum(covered)[:-1] > 0
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return [(int(a), int(b)) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
            if b - a >= min_run]


def cut_token_runs(text: str, starts: np.ndarray, ends: np.ndarray, positions: np.ndarray, k: int,
                   min_run: int = 1) -> tuple[str, int]:
    """Cut from ``text`` the token runs covered by k-grams starting at ``positions`` that are at
    least ``min_run`` tokens long (cuts fall on token boundaries). Returns (text, runs cut)."""
    runs = covered_runs(len(starts), positions, k, min_run)
    pieces, last = [], 0
    for a, b in runs:
        pieces.append(text[last:starts[a]])
        last = int(ends[b - 1])
    pieces.append(text[last:])
    return "".join(pieces).strip(), len(runs)
