"""Shingles and MinHash signatures, vectorised with numpy (no per-shingle Python loop).

Tokens come from one pass over the text's code points: a lookup table marks word characters,
Han/Kana/Thai characters are tokens of their own (as in ``pipeline.text``), and each token's
64-bit hash is a polynomial prefix-hash difference, so tokenising and hashing a document is a
handful of array operations. Word n-gram shingles combine n consecutive token hashes; character
n-gram shingles do the same over the non-space characters. All arithmetic wraps modulo 2^64.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_P = np.uint64(0x100000001B3)  # odd: invertible modulo 2^64
_P_INV = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_SHINGLE = re.compile(r"^(word|char)_(\d+)gram$")


@lru_cache(maxsize=1)
def _classes() -> tuple[np.ndarray, np.ndarray]:
    """(is word character, is a one-character-token script) for every code point."""
    cps = np.arange(0x110000)
    word = np.zeros(0x110000, dtype=bool)
    for cp in range(0x3400):  # below the CJK blocks: ask Python once per code point
        word[cp] = chr(cp).isalnum() or cp == 0x5F
    word[0x3400:] = True
    for lo, hi in [(0x3000, 0x303F), (0xFF00, 0xFF0F), (0xFF1A, 0xFF20), (0xFE30, 0xFE4F), (0xD800, 0xDFFF),
                   (0xE000, 0xF8FF), (0x2000, 0x206F)]:
        word[lo:hi + 1] = False
    single = ((cps >= 0x3040) & (cps <= 0x30FF)) | ((cps >= 0x3400) & (cps <= 0x4DBF)) | \
             ((cps >= 0x4E00) & (cps <= 0x9FFF)) | ((cps >= 0xF900) & (cps <= 0xFAFF)) | \
             ((cps >= 0x0E00) & (cps <= 0x0E7F))
    word[0x0E00:0x0E80] = True
    return word, single


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


def _span_hashes(cp: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Hash of cp[s:e] for each span, via prefix sums of cp[j] * P^-j."""
    n = len(cp)
    pw, inv = _powers(n + 1)
    with np.errstate(over="ignore"):
        g = np.concatenate(([np.uint64(0)], np.cumsum((cp.astype(np.uint64) + np.uint64(1)) * inv[:n],
                                                      dtype=np.uint64)))
        return (g[ends] - g[starts]) * pw[ends - 1] + (ends - starts).astype(np.uint64)


def token_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the lower-cased word tokens of ``text`` (CJK: one per character)."""
    return token_spans(text)[2]


@lru_cache(maxsize=1)
def _fold_table() -> np.ndarray:
    """Code point -> its NFKC, lower-cased form where that is one character (full-width Ａ１ -> a1,
    ligatures and compatibility forms -> their letters); ``_`` becomes a space (fill-in blanks)."""
    import unicodedata

    tab = np.arange(0x110000, dtype=np.uint32)
    for cp in range(0x80, 0x10000):
        c = unicodedata.normalize("NFKC", chr(cp)).lower()
        if len(c) == 1:
            tab[cp] = ord(c)
    tab[0x41:0x5B] += 32
    tab[tab == 0x5F] = 0x20  # _ and its full-width and other compatibility forms
    return tab


def token_spans(text: str, fold: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, hash) of every word token; offsets index the Python string.

    ``fold``: compare as a reader would, ignoring full-width forms and other compatibility
    variants (NFKC, per character) and dropping tokens that are one ASCII letter (option labels
    "A." "(b)", the article "a"), so reformatted copies of a text hash alike."""
    empty = np.empty(0, dtype=np.int64)
    if not text:
        return empty, empty, np.empty(0, dtype=np.uint64)
    if fold:
        cp = _fold_table()[np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)]
    else:
        low = text.lower()
        if len(low) != len(text):  # a few characters change length when lower-cased (e.g. U+0130)
            low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        cp = np.frombuffer(low.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    word_tab, single_tab = _classes()
    w = word_tab[cp]
    single = single_tab[cp]
    # A token starts at a word char that follows a non-word char, or at any single-char token,
    # or right after one.
    prev_w = np.concatenate(([False], w[:-1]))
    prev_single = np.concatenate(([False], single[:-1]))
    start = w & (~prev_w | single | prev_single)
    nxt_w = np.concatenate((w[1:], [False]))
    nxt_single = np.concatenate((single[1:], [False]))
    end = w & (~nxt_w | single | nxt_single)
    starts = np.flatnonzero(start)
    ends = np.flatnonzero(end) + 1
    if fold:
        c0 = cp[starts]
        keep = (ends - starts > 1) | (c0 < 0x61) | (c0 > 0x7A)
        starts, ends = starts[keep], ends[keep]
    return starts, ends, _span_hashes(cp, starts, ends)


def char_hashes(text: str) -> np.ndarray:
    cp = np.frombuffer("".join(text.lower().split()).encode("utf-32-le"), dtype=np.uint32)
    return cp.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1)


def shingle_hashes(text: str, shingle: str, unique: bool = True) -> np.ndarray:
    """64-bit shingle hashes (``unique``: as a set; a signature does not need it).

    A text shorter than one shingle is one shingle of all it has."""
    m = _SHINGLE.match(shingle)
    if not m:
        raise ValueError(f"shingle {shingle!r}: use word_<n>gram or char_<n>gram")
    kind, n = m.group(1), int(m.group(2))
    units = token_hashes(text) if kind == "word" else char_hashes(text)
    if len(units) == 0:
        return units
    h = kgram_hashes(units, min(n, len(units)))
    return np.unique(h) if unique else h


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


@dataclass(frozen=True)
class Permutations:
    a: np.ndarray  # odd uint64 multipliers
    b: np.ndarray

    @classmethod
    def make(cls, num_perm: int, seed: int) -> Permutations:
        rng = np.random.default_rng([seed, 0x5151])
        a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
        return cls(a, b)


def signature(shingles: np.ndarray, perms: Permutations) -> np.ndarray:
    """MinHash signature (uint32 per permutation) by multiply-shift hashing; empty -> all max."""
    k = len(perms.a)
    if len(shingles) == 0:
        return np.full(k, np.iinfo(np.uint32).max, dtype=np.uint32)
    out = np.empty(k, dtype=np.uint32)
    step = max(1, 65_536 // len(shingles))  # a k x |S| block that stays in cache
    with np.errstate(over="ignore"):
        for i in range(0, k, step):
            vals = perms.a[i:i + step, None] * shingles[None, :]
            vals += perms.b[i:i + step, None]
            vals >>= np.uint64(32)
            out[i:i + step] = vals.min(axis=1)
    return out


def band_hashes(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(docs x bands) uint64 hashes of each band's rows, the band index mixed in."""
    n = sigs.shape[0]
    out = np.zeros((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for b in range(bands):
            h = np.full(n, np.uint64(b + 1) * np.uint64(0xC2B2AE3D27D4EB4F), dtype=np.uint64)
            for r in range(rows):
                h = h * np.uint64(0x9E3779B97F4A7C15) + sigs[:, b * rows + r].astype(np.uint64)
            out[:, b] = h ^ (h >> np.uint64(29))
    return out


def optimal_bands(threshold: float, num_perm: int, false_negative_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising weighted false positive and negative probability (datasketch)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm,
                     weights=(1 - false_negative_weight, false_negative_weight))
    return lsh.b, lsh.r


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
