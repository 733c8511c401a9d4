"""Gopher rules (Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from
Training Gopher", appendix A.1.1 and table A1), with the paper's thresholds as defaults.

Words are ``pipeline.text.words``: Chinese/Japanese/Thai count one unit per character, so the
word-count bounds read as character counts there; built-in overrides for those languages turn
off the mean-word-length rule (a character is not a word), use their own stop words, and look
for longer repeated n-grams (see ``_CHAR_NGRAMS``).
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import numpy as np
import pyarrow as pa

from cc_cleaner.filters.rules_base import Bound, RuleConfig, RuleFilter
from cc_cleaner.pipeline.step import Evaluation, register
from cc_cleaner.pipeline.text import code_points, regex_class, span_hashes, word_bounds, word_spans

_BULLETS = ("•", "●", "◦", "‣", "▪", "-", "*", "·", "–")
_CHAR_LANG = {"min_mean_word_length": None, "max_mean_word_length": None}
_ZH_STOP = ["的", "了", "是", "在", "和", "有", "不", "这", "也", "就", "都", "我", "人", "他"]
_JA_STOP = ["の", "に", "は", "を", "た", "が", "で", "て", "と", "し", "も", "な"]
_TH_STOP = ["ที่", "และ", "ใน", "ของ", "การ", "เป็น"]


class GopherQualityConfig(RuleConfig):
    min_words: int | None = 50
    max_words: int | None = 100_000
    min_mean_word_length: float | None = 3.0
    max_mean_word_length: float | None = 10.0
    max_symbol_to_word_ratio: float | None = 0.1  # '#' and ellipses per word
    max_bullet_line_ratio: float | None = 0.9  # lines starting with a bullet
    max_ellipsis_line_ratio: float | None = 0.3  # lines ending with an ellipsis
    min_alphabetic_word_ratio: float | None = 0.8  # words with at least one letter
    min_stop_words: int | None = 2
    stop_words: list[str] = ["the", "be", "to", "of", "and", "that", "have", "with"]


@register
class GopherQuality(RuleFilter):
    name = "gopher_quality"
    Config = GopherQualityConfig
    config: GopherQualityConfig
    language_defaults = {"zh": {**_CHAR_LANG, "stop_words": _ZH_STOP},
                         "ja": {**_CHAR_LANG, "stop_words": _JA_STOP},
                         "th": {**_CHAR_LANG, "stop_words": _TH_STOP, "min_stop_words": None}}

    bounds = (
        Bound("min_words", "gopher_words", "too_few_words",
              (0, 25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 1e5, 1e9)),
        Bound("max_words", "gopher_words", "too_many_words"),
        Bound("min_mean_word_length", "gopher_mean_word_length", "mean_word_length_too_short",
              tuple(i / 2 for i in range(0, 31))),
        Bound("max_mean_word_length", "gopher_mean_word_length", "mean_word_length_too_long"),
        Bound("max_symbol_to_word_ratio", "gopher_symbol_ratio", "too_many_symbols", tuple(i / 100 for i in range(51))),
        Bound("max_bullet_line_ratio", "gopher_bullet_ratio", "too_many_bullet_lines"),
        Bound("max_ellipsis_line_ratio", "gopher_ellipsis_ratio", "too_many_ellipsis_lines"),
        Bound("min_alphabetic_word_ratio", "gopher_alphabetic_ratio", "too_few_alphabetic_words",
              tuple(i / 50 for i in range(51))),
        Bound("min_stop_words", "gopher_stop_words", "too_few_stop_words", (*range(0, 21), 1e9)),
    )

    def evaluate(self, table: pa.Table) -> Evaluation:
        rows = []
        reasons: list[str | None] = []
        for text, lang in zip(table["text"].to_pylist(), self.languages(table), strict=True):
            c = self.config_for(lang)
            m = {f"gopher_{k}": v for k, v in gopher_quality_metrics(text, c.stop_words).items()}
            rows.append(m)
            reasons.append(self.judge(m, c))
        cols = {k: pa.array(np.array([r[k] for r in rows], dtype=np.float32)) for k in rows[0]} if rows else {}
        return Evaluation(cols, reasons)


def gopher_quality_metrics(text: str, stop_words: list[str]) -> dict[str, float]:
    cp, starts, ends = word_bounds(text)  # the tokens of words(text)
    n = len(starts)
    lens = ends - starts
    letters = np.concatenate(([0], np.cumsum(regex_class(r"[^\W\d_]")[cp], dtype=np.int64)))
    has_letter = letters[ends] > letters[starts]
    low = text.lower()
    if len(low) == len(text):  # lower-casing kept every position: compare hashes of the lower-cased words
        n_stop = int(np.isin(span_hashes(code_points(low), starts, ends), _stop_hashes(tuple(stop_words))).sum())
    else:
        stops = set(stop_words)
        n_stop = sum(text[a:b].lower() in stops for a, b in zip(starts.tolist(), ends.tolist(), strict=True))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    nl = max(1, len(lines))
    return {
        "words": n,
        "mean_word_length": int(lens.sum()) / n if n else 0.0,
        "symbol_ratio": (text.count("#") + text.count("...") + text.count("…")) / max(1, n),
        "bullet_ratio": sum(ln.startswith(_BULLETS) for ln in lines) / nl,
        "ellipsis_ratio": sum(ln.endswith(("...", "…")) for ln in lines) / nl,
        "alphabetic_ratio": int(has_letter.sum()) / n if n else 0.0,
        "stop_words": n_stop,
    }


@lru_cache(maxsize=64)
def _stop_hashes(stop_words: tuple[str, ...]) -> np.ndarray:
    """Each stop word's hash as one word (a word of words() that equals it has this hash)."""
    out = []
    for w in stop_words:
        cp = code_points(w)
        out.append(span_hashes(cp, np.array([0]), np.array([len(cp)]))[0] if len(cp) else np.uint64(0))
    return np.array(out, dtype=np.uint64)


class GopherRepetitionConfig(RuleConfig):
    max_duplicate_line_ratio: float | None = 0.30  # duplicated lines / lines
    max_duplicate_paragraph_ratio: float | None = 0.30
    max_duplicate_line_char_ratio: float | None = 0.20  # characters in duplicated lines / characters
    max_duplicate_paragraph_char_ratio: float | None = 0.20
    # Most frequent n-gram: its characters times its count / all word characters.
    max_top_ngram_char_ratio: dict[int, float] = {2: 0.20, 3: 0.18, 4: 0.16}
    # Characters of words covered by any n-gram seen more than once / all word characters.
    max_duplicate_ngram_char_ratio: dict[int, float] = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}


# Character-counted languages: n-grams about 2.5x longer (a Chinese word is ~1.5-2 characters,
# and names repeat as long character runs) and higher limits for duplicated n-grams. Tuned so
# that good Chinese text passes about as often as good English text does with the paper's values
# (65/69 vs 174/181 on the ground-truth texts in tests/test_filters.py) while spam still fails.
_CHAR_NGRAMS = {"max_top_ngram_char_ratio": {4: 0.20, 6: 0.18, 8: 0.16},
                "max_duplicate_ngram_char_ratio": {10: 0.25, 13: 0.22, 16: 0.20, 19: 0.18, 22: 0.16, 25: 0.15}}


_RATIO = tuple(i / 50 for i in range(51))
_EXCESS = tuple(i / 25 for i in range(51))


@register
class GopherRepetition(RuleFilter):
    name = "gopher_repetition"
    Config = GopherRepetitionConfig
    config: GopherRepetitionConfig
    language_defaults = {"zh": _CHAR_NGRAMS, "ja": _CHAR_NGRAMS, "th": _CHAR_NGRAMS}

    bounds = (
        Bound("max_duplicate_line_ratio", "rep_duplicate_line_ratio", "duplicate_lines", _RATIO),
        Bound("max_duplicate_paragraph_ratio", "rep_duplicate_paragraph_ratio", "duplicate_paragraphs"),
        Bound("max_duplicate_line_char_ratio", "rep_duplicate_line_char_ratio", "duplicate_line_chars"),
        Bound("max_duplicate_paragraph_char_ratio", "rep_duplicate_paragraph_char_ratio", "duplicate_paragraph_chars",
              _RATIO),
        # The n-gram metrics are already the worst value / limit over the configured sizes.
        Bound("max_top_ngram_char_ratio", "rep_top_ngram_excess", "top_ngram_repeated", _EXCESS, relative=True),
        Bound("max_duplicate_ngram_char_ratio", "rep_duplicate_ngram_excess", "duplicate_ngrams", _EXCESS,
              relative=True),
    )

    def evaluate(self, table: pa.Table) -> Evaluation:
        texts = table["text"].to_pylist()
        configs = [self.config_for(lang) for lang in self.languages(table)]
        excess = ngram_excess_of(texts, configs)
        cols: dict[str, list[float]] = {b.column: [] for b in self.bounds}
        reasons: list[str | None] = []
        for text, c, (top, dup) in zip(texts, configs, excess, strict=True):
            m = {**line_metrics(text), "rep_top_ngram_excess": top, "rep_duplicate_ngram_excess": dup}
            for k in cols:
                cols[k].append(m[k])
            reasons.append(self.judge(m, c))
        return Evaluation({k: pa.array(np.array(v, dtype=np.float32)) for k, v in cols.items()}, reasons)


def _dup_fractions(units: list[str]) -> tuple[float, float]:
    """(duplicated units / units, characters of duplicated units / characters)."""
    if not units:
        return 0.0, 0.0
    counts = Counter(units)
    seen: set[str] = set()
    dup_n = dup_chars = 0
    for u in units:
        if counts[u] > 1 and u in seen:
            dup_n += 1
            dup_chars += len(u)
        seen.add(u)
    return dup_n / len(units), dup_chars / max(1, sum(map(len, units)))


def line_metrics(text: str) -> dict[str, float]:
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    # Split at every "\n\n": a longer run of newlines leaves only empty or blank-edged pieces,
    # which strip away, so these are the paragraphs of re.split(r"\n{2,}"), without the regex.
    paras = [p.strip() for p in text.split("\n\n") if p.strip()]
    line_r, line_cr = _dup_fractions(lines)
    para_r, para_cr = _dup_fractions(paras)
    return {"rep_duplicate_line_ratio": line_r, "rep_duplicate_paragraph_ratio": para_r,
            "rep_duplicate_line_char_ratio": line_cr, "rep_duplicate_paragraph_char_ratio": para_cr}


BATCH_WORDS = 1 << 18  # words whose n-grams are counted in one pass (a few MB of arrays)


def ngram_excess_of(texts: list[str], configs: list[GopherRepetitionConfig]) -> list[tuple[float, float]]:
    """``ngram_excess_batch`` of each text under its config: the texts of one config in batches
    of about ``BATCH_WORDS`` words."""
    spans = [word_spans(t) for t in texts]
    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(texts)
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault(repr((c.max_top_ngram_char_ratio, c.max_duplicate_ngram_char_ratio)), []).append(i)
    for members in groups.values():
        c = configs[members[0]]
        batch: list[int] = []
        size = 0
        for i in [*members, None]:
            if i is None or (batch and size + len(spans[i][1]) > BATCH_WORDS):
                found = ngram_excess_batch([spans[j] for j in batch], c.max_top_ngram_char_ratio,
                                           c.max_duplicate_ngram_char_ratio)
                for j, r in zip(batch, found, strict=True):
                    out[j] = r
                batch, size = [], 0
            if i is not None:
                batch.append(i)
                size += len(spans[i][1])
    return out


_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier for rolling n-gram hashes
_SALT = np.uint64(0xD6E8FEB86659FD93)  # mixes a document's number into its n-grams' keys


def ngram_excess_batch(docs: list[tuple[np.ndarray, np.ndarray]], top: dict[int, float],
                       dup: dict[int, float]) -> list[tuple[float, float]]:
    """Per document, given its words' lengths and hashes (``word_spans`` of the text): the worst
    ratio/limit over n of its top n-gram's and its duplicated n-grams' character fractions. The
    top n-gram is the most frequent one; among equally frequent ones, the first in the text (as
    datatrove's ``Counter.most_common`` picks it).

    One pass per n-gram size for all the documents: their words end to end, an n-gram counted
    only when it lies inside one document (keys mix in the document's number). n-grams are 64-bit
    rolling hashes, counts come from np.unique; an n-gram can repeat only where both (n-1)-grams
    inside it repeat, so each size counts only those positions (a few percent in ordinary text)."""
    k = len(docs)
    if not k:
        return []
    sizes = np.array([len(ids) for _, ids in docs], dtype=np.int64)
    ids = np.concatenate([d[1] for d in docs]).astype(np.uint64)
    lens = np.concatenate([d[0] for d in docs]).astype(np.int64)
    nw = len(ids)
    doc = np.repeat(np.arange(k), sizes)
    room = np.repeat(np.cumsum(sizes), sizes) - np.arange(nw)  # words from each position to its doc's end
    csum = np.concatenate(([0], np.cumsum(lens)))
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    total = np.maximum(1, csum[bounds[1:]] - csum[bounds[:-1]])
    salt = doc.astype(np.uint64) * _SALT
    top_excess, dup_excess = np.zeros(k), np.zeros(k)
    if nw < 2:
        return [(0.0, 0.0)] * k
    _, first, counts = np.unique(ids ^ salt, return_inverse=True, return_counts=True)
    repeats = counts[first] > 1  # at each position: does the (n-1)-gram starting there repeat?
    h = ids
    with np.errstate(over="ignore"):
        for n in range(2, max([*top, *dup]) + 1):
            if nw < n:
                break
            h = h[:-1] * _MULT + ids[n - 1:]
            pos = np.flatnonzero(repeats[:-1] & repeats[1:] & (room[:len(h)] >= n))
            if len(pos) == 0:
                break  # no n-gram repeats, so no longer one does either
            _, inv, cnt = np.unique(h[pos] ^ salt[pos], return_inverse=True, return_counts=True)
            at = cnt[inv]  # each candidate position's n-gram count in its document
            again = at > 1
            repeats = np.zeros(len(h), dtype=bool)
            repeats[pos[again]] = True
            if n in top:
                owner = doc[pos]  # ascending: positions are in order
                seg = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
                most = np.maximum.reduceat(at, seg)
                # The first position of each document whose n-gram is that document's most frequent.
                hit = np.flatnonzero(at == np.repeat(most, np.diff(np.append(seg, len(at)))))
                hit_seg = np.searchsorted(seg, hit, "right") - 1
                first_hit = hit[np.concatenate(([True], hit_seg[1:] != hit_seg[:-1]))]
                i, d = pos[first_hit], owner[seg]
                ratio = (csum[i + n] - csum[i]) * most / total[d] / top[n]
                sel = most > 1
                top_excess[d[sel]] = np.maximum(top_excess[d[sel]], ratio[sel])
            if n in dup:
                starts = pos[again]
                if len(starts):
                    edges = np.bincount(starts, minlength=nw + 1) - np.bincount(starts + n, minlength=nw + 1)
                    covered = np.cumsum(edges)[:-1] > 0
                    chars = np.bincount(doc[covered], weights=lens[covered], minlength=k)
                    dup_excess = np.maximum(dup_excess, chars / total / dup[n])
    return list(zip(top_excess.tolist(), dup_excess.tolist(), strict=True))
