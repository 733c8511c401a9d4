"""Shingles and MinHash signatures, vectorised with numpy (no per-shingle Python loop).

Word n-gram shingles combine n consecutive token hashes (``pipeline.text.token_hashes``);
character n-gram shingles do the same over the non-space characters. All arithmetic wraps
modulo 2^64.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cc_cleaner.pipeline.text import char_hashes, kgram_hashes, token_hashes

_SHINGLE = re.compile(r"^(word|char)_(\d+)gram$")


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
    """(bands, rows) minimising weighted false positive and negative probability (datasketch;
    about 0.4 s: the driver chooses them once and the tasks carry them)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm,
                     weights=(1 - false_negative_weight, false_negative_weight))
    return lsh.b, lsh.r


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
