"""Benchmark decontamination by n-gram overlap with an index of benchmark test items.

A leaked test item rarely appears whole: a page holds the question alone, or the question with
its options, or a solution or code prompt alone. Each item is indexed as those *units*
(``filters.benchmarks``), and a document is contaminated by an item when it holds enough of
any one unit. Text is compared as a reader would: lower case, punctuation and spacing ignored,
full-width and other compatibility forms folded (NFKC), one-letter option labels and fill-in
blanks dropped, Chinese/Japanese/Thai one token per character (``pipeline.text.token_spans``).

Rules: a unit of at least ``n`` tokens is its ``n``-grams, and a document must hold at least
``min_overlap`` of them (and at least ``min(3, all)`` of them, so one chance 13-gram never
decides); a short unit (``min_item_tokens`` to ``n - 1`` tokens, e.g. a short MMLU or C-Eval
question) is one gram of all its tokens and must appear whole. N-grams held by more than
``max_items_per_ngram`` items are boilerplate of the benchmark ("which of the following") and
are left out. Defaults: n = 13 (GPT-3's rule), min_overlap 0.3.

The default benchmarks ship inside the package as a prebuilt index of 64-bit n-gram hashes
(``data/decontam_index.npz``: no benchmark text is redistributed, nothing is rebuilt per
worker); ``cc-cleaner decontam-index`` builds one from a user's files. Policy ``drop`` rejects
the document with the matched span; ``cut`` removes the matched token spans.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import xxhash
from pydantic import BaseModel, ConfigDict, Field

from cc_cleaner.filters.benchmarks import DEFAULT, Item, load_benchmark, load_file
from cc_cleaner.pipeline.step import Evaluation, FilterStep, Histogram, StepConfig, register
from cc_cleaner.pipeline.text import (
    KGRAM_MUL,
    code_points,
    cut_token_runs,
    kgram_hashes,
    single_char_script,
    token_spans,
)

SHIPPED_INDEX = Path(__file__).parent / "data" / "decontam_index.npz"
FORMAT = 3  # 3: traditional Chinese folded to simplified (pipeline.text._fold_table)
SPAN_CHARS = 600  # of the matched text kept beside a rejected document
_FILTER_BITS = 27  # at most 16 MB of bitmap per gram length: 0.25% of 13-grams pass it for 3.4 M hashes
_PROBE = np.uint64(0x9E3779B97F4A7C15)  # the second probe: the top bits of the hash times this


class BenchmarkFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    path: str
    fields: list[str]


class DecontaminateConfig(StepConfig):
    benchmarks: list[str] = DEFAULT
    # A folder with the known layouts (gsm8k/, mmlu/, ...) to index at setup instead of using the
    # shipped index; needed only for other splits or n-gram settings than the shipped ones.
    benchmarks_dir: str | None = None
    index: str | None = None  # an index built by `cc-cleaner decontam-index` (instead of the shipped one)
    splits: list[str] | None = None  # csv benchmarks: default test (ceval: val + test)
    files: list[BenchmarkFile] = []
    n: int = Field(default=13, ge=3)
    min_item_tokens: int = Field(default=8, ge=1)
    min_overlap: float = Field(default=0.3, gt=0, le=1)
    max_items_per_ngram: int = Field(default=20, ge=1)
    action: Literal["drop", "cut"] = "drop"


def item_tokens(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return token_spans(text, fold=True)


def words_weight(text: str, starts: np.ndarray) -> float:
    """Tokens counted as words: a Chinese/Japanese/Thai character is half a word (a 10-character
    question, 人和动物的根本区别是, says about as much as five English words)."""
    if not len(starts):
        return 0.0
    cp = code_points(text)[starts]
    single = single_char_script(cp)
    return float(len(starts) - 0.5 * single.sum())


@dataclass
class ContaminationIndex:
    """Sorted n-gram hashes with the unit that owns each, and per unit its item and gram count."""

    n: int
    min_item_tokens: int
    max_items_per_ngram: int
    hashes: np.ndarray  # uint64, sorted
    owners: np.ndarray  # int32 unit of each hash
    unit_item: np.ndarray  # int32 item of each unit
    unit_kind: np.ndarray  # int16 index into kinds
    unit_grams: np.ndarray  # int32 grams of each unit (before boilerplate removal)
    unit_len: np.ndarray  # int32 tokens of a short unit (its one gram's length), else n
    item_names: np.ndarray  # str "benchmark:id"
    kinds: list[str]
    indexed: dict[str, int]  # items per benchmark
    min_overlap: float = 0.3  # a matching rule, not part of the index: set by the step

    @classmethod
    def build(cls, items: Iterable[Item], n: int = 13, min_item_tokens: int = 8,
              max_items_per_ngram: int = 20) -> ContaminationIndex:
        names, kinds, indexed = [], {}, {}
        hashes, owners, unit_item, unit_kind, unit_grams, unit_len = [], [], [], [], [], []
        for bench, item_id, units in items:
            k_item = len(names)
            names.append(f"{bench}:{item_id}")
            indexed[bench] = indexed.get(bench, 0) + 1
            for kind, text in units:
                starts, _, tok = item_tokens(text or "")
                if words_weight(text or "", starts) < min_item_tokens:
                    continue
                k = min(n, len(tok))
                h = np.unique(kgram_hashes(tok, k))
                u = len(unit_item)
                hashes.append(h)
                owners.append(np.full(len(h), u, dtype=np.int32))
                unit_item.append(k_item)
                unit_kind.append(kinds.setdefault(kind, len(kinds)))
                unit_grams.append(len(h))
                unit_len.append(k)
        h = np.concatenate(hashes) if hashes else np.empty(0, np.uint64)
        o = np.concatenate(owners) if owners else np.empty(0, np.int32)
        unit_item_a = np.asarray(unit_item, dtype=np.int32)
        # Boilerplate: grams that more than max_items_per_ngram distinct *items* hold.
        pair = np.unique(np.stack([h, unit_item_a[o].astype(np.uint64)], axis=1), axis=0) if len(h) else \
            np.empty((0, 2), np.uint64)
        g, c = np.unique(pair[:, 0], return_counts=True)
        common = g[c > max_items_per_ngram]
        keep = ~np.isin(h, common)
        h, o = h[keep], o[keep]
        order = np.argsort(h, kind="stable")
        return cls(n, min_item_tokens, max_items_per_ngram, h[order], o[order], unit_item_a,
                   np.asarray(unit_kind, dtype=np.int16), np.asarray(unit_grams, dtype=np.int32),
                   np.asarray(unit_len, dtype=np.int32), np.asarray(names, dtype=str), list(kinds), indexed)

    # -- persistence ------------------------------------------------------------------------
    # On disk a gram held by several units of one item is stored once, with a bit per unit (an
    # item's units are consecutive), and the sorted hashes as byte planes of their differences,
    # which compress to about 5 of their 8 bytes.
    def save(self, path: str | Path) -> None:
        first_unit = _first_units(self.unit_item, len(self.item_names))
        item = self.unit_item[self.owners].astype(np.int64)
        bit = self.owners - first_unit[item]
        if len(bit) and bit.max() >= 8:
            raise ValueError("an item has more than 8 units")
        key = np.stack([self.hashes, item.astype(np.uint64)], axis=1)
        pairs, inv = np.unique(key, axis=0, return_inverse=True)
        mask = np.zeros(len(pairs), dtype=np.uint8)
        np.bitwise_or.at(mask, inv.ravel(), (1 << bit).astype(np.uint8))
        deltas = np.diff(pairs[:, 0], prepend=np.uint64(0))
        meta = {"format": FORMAT, "n": self.n, "min_item_tokens": self.min_item_tokens,
                "max_items_per_ngram": self.max_items_per_ngram, "kinds": self.kinds, "indexed": self.indexed}
        with open(path, "wb") as f:
            np.savez_compressed(f, meta=np.array(json.dumps(meta)), hash_planes=deltas.view(np.uint8).reshape(-1, 8).T,
                                item=pairs[:, 1].astype(np.int32), mask=mask, unit_item=self.unit_item,
                                unit_kind=self.unit_kind, unit_grams=self.unit_grams, unit_len=self.unit_len,
                                item_names=self.item_names)

    @classmethod
    def load(cls, path: str | Path) -> ContaminationIndex:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError(f"{path}: decontamination index format {meta.get('format')}, expected {FORMAT}; "
                                 "rebuild it with `cc-cleaner decontam-index`")
            hashes = np.cumsum(np.ascontiguousarray(z["hash_planes"].T).view(np.uint64).ravel(), dtype=np.uint64)
            item, mask, unit_item = z["item"], z["mask"], z["unit_item"]
            first_unit = _first_units(unit_item, len(z["item_names"]))
            h, o = [], []
            for bit in range(8):
                sel = (mask >> bit) & 1 == 1
                h.append(hashes[sel])
                o.append(first_unit[item[sel]] + bit)
            hh, oo = np.concatenate(h), np.concatenate(o).astype(np.int32)
            order = np.argsort(hh, kind="stable")
            return cls(meta["n"], meta["min_item_tokens"], meta["max_items_per_ngram"], hh[order], oo[order],
                       unit_item, z["unit_kind"], z["unit_grams"], z["unit_len"], z["item_names"],
                       meta["kinds"], meta["indexed"])

    def benchmarks_of_units(self) -> np.ndarray:
        bench = np.array([s.split(":", 1)[0] for s in self.item_names.tolist()], dtype=str)
        return bench[self.unit_item] if len(self.unit_item) else np.empty(0, dtype=str)

    def select(self, benchmarks: list[str]) -> ContaminationIndex:
        """Only the units of ``benchmarks`` (grams dropped as boilerplate stay dropped)."""
        missing = sorted(set(benchmarks) - set(self.indexed))
        if missing:
            raise ValueError(f"benchmarks {missing} are not in this index (it holds {sorted(self.indexed)}); "
                             "give benchmarks_dir or build an index with `cc-cleaner decontam-index`")
        unit_ok = np.isin(self.benchmarks_of_units(), benchmarks)
        keep = unit_ok[self.owners]
        return ContaminationIndex(self.n, self.min_item_tokens, self.max_items_per_ngram, self.hashes[keep],
                                  self.owners[keep], self.unit_item, self.unit_kind, self.unit_grams, self.unit_len,
                                  self.item_names, self.kinds, {b: self.indexed[b] for b in benchmarks})

    @classmethod
    def concat(cls, parts: list[ContaminationIndex]) -> ContaminationIndex:
        first = parts[0]
        kinds: dict[str, int] = {}
        hashes, owners, ui, uk, ug, ul, names, indexed = [], [], [], [], [], [], [], {}
        units = items = 0
        for p in parts:
            if (p.n, p.min_item_tokens) != (first.n, first.min_item_tokens):
                raise ValueError("indexes built with different n or min_item_tokens cannot be combined")
            remap = np.array([kinds.setdefault(k, len(kinds)) for k in p.kinds] or [0], dtype=np.int16)
            hashes.append(p.hashes)
            owners.append(p.owners + units)
            ui.append(p.unit_item + items)
            uk.append(remap[p.unit_kind] if len(p.unit_kind) else p.unit_kind)
            ug.append(p.unit_grams)
            ul.append(p.unit_len)
            names.append(p.item_names)
            indexed.update(p.indexed)
            units += len(p.unit_item)
            items += len(p.item_names)
        h, o = np.concatenate(hashes), np.concatenate(owners).astype(np.int32)
        order = np.argsort(h, kind="stable")
        return cls(first.n, first.min_item_tokens, first.max_items_per_ngram, h[order], o[order],
                   np.concatenate(ui).astype(np.int32), np.concatenate(uk).astype(np.int16),
                   np.concatenate(ug).astype(np.int32), np.concatenate(ul).astype(np.int32),
                   np.concatenate(names), list(kinds), indexed)

    # -- matching ---------------------------------------------------------------------------
    @property
    def gram_lengths(self) -> list[int]:
        return [int(k) for k in np.flatnonzero(self._gram_counts)]

    def match(self, text: str) -> tuple[list[int], np.ndarray, np.ndarray, list[tuple[int, int]]]:
        """(matched items, token starts, token ends, [(first token, end token)] of each matched run)."""
        starts, ends, tok = item_tokens(text)
        if len(tok) == 0 or len(self.hashes) == 0:
            return [], starts, ends, []
        grams, positions, lengths, los = [], [], [], []
        for k, h in self._grams(tok):
            at, lo = self._find(h, self._in_filter(h, k))
            grams.append(h[at])
            positions.append(at)
            lengths.append(np.full(len(at), k, dtype=np.int64))
            los.append(lo)
        if not sum(map(len, positions)):
            return [], starts, ends, []
        g, p, gl, lo = (np.concatenate(x) for x in (grams, positions, lengths, los))
        hi = np.searchsorted(self.hashes, g, "right")  # only for the few grams that are there
        counts = hi - lo
        rows = np.repeat(np.arange(len(g)), counts)
        idx = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)
        unit = self.owners[idx]
        # Distinct grams per unit (a gram repeated in the document counts once).
        uniq_unit, n_found = np.unique(np.unique(np.stack([unit.astype(np.uint64), g[rows]], axis=1), axis=0)[:, 0],
                                       return_counts=True)
        uniq_unit = uniq_unit.astype(np.int64)
        need = np.maximum(np.ceil(self.min_overlap * self.unit_grams[uniq_unit] - 1e-9),
                          np.minimum(3, self.unit_grams[uniq_unit]))
        good = uniq_unit[n_found >= need]
        if len(good) == 0:
            return [], starts, ends, []
        items = sorted({int(i) for i in self.unit_item[good]})
        on = np.isin(unit, good)
        runs = sorted({(int(a), int(a + b)) for a, b in zip(p[rows[on]], gl[rows[on]], strict=True)})
        return items, starts, ends, runs

    def may_match(self, texts: list[str | None], chunk_chars: int = 1 << 20) -> np.ndarray:
        """Per text: whether any of its grams is in the index (``match`` finds nothing in a text
        where none is). The texts are tokenized and looked up together, in chunks of about
        ``chunk_chars`` characters: a few numpy passes per chunk instead of per text."""
        out = np.zeros(len(texts), dtype=bool)
        if not len(self.hashes) or not self._lengths:
            return out
        i = 0
        while i < len(texts):
            j, size = i, 0
            while j < len(texts) and (j == i or size + len(texts[j] or "") < chunk_chars):
                size += len(texts[j] or "") + 1
                j += 1
            chunk = [t or "" for t in texts[i:j]]
            starts, _, tok = item_tokens("\n".join(chunk))  # a newline is no word: tokens stay in their text
            doc = np.searchsorted(np.cumsum([len(t) + 1 for t in chunk]), starts, "right")
            for k, h in self._grams(tok):
                maybe = self._in_filter(h, k)
                maybe = maybe[doc[maybe] == doc[maybe + k - 1]]  # grams within one text
                out[i + doc[self._find(h, maybe)[0]]] = True
            i = j
        return out

    def _grams(self, tok: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """(k, the hash of every k-gram of ``tok``) for each indexed length k, from one rolling pass."""
        lengths = set(self._lengths)
        h = tok
        with np.errstate(over="ignore"):
            for k in range(1, min(max(lengths, default=0), len(tok)) + 1):
                if k > 1:
                    h = h[:-1] * KGRAM_MUL + tok[k - 1:]
                if k in lengths:
                    yield k, h

    def _find(self, h: np.ndarray, maybe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Of the positions ``maybe``, those whose hash is in the index, and where it starts there."""
        g = h[maybe]
        lo = np.searchsorted(self.hashes, g, "left")
        hit = self.hashes[np.minimum(lo, len(self.hashes) - 1)] == g
        return maybe[hit], lo[hit]

    def _in_filter(self, h: np.ndarray, k: int) -> np.ndarray:
        """Positions of the k-gram hashes whose two bits are set in the k-grams' bitmap (a Bloom
        filter of two probes): it rules out almost every gram before a binary search."""
        offset, bits = self._filter_layout[k]
        table = self._filter[offset:offset + (1 << (bits - 3))]
        at = np.flatnonzero(_bit(table, _probe(h, bits, 0)))
        return at[_bit(table, _probe(h[at], bits, 1))]

    @cached_property
    def _gram_counts(self) -> np.ndarray:
        """Indexed grams of each length."""
        return np.bincount(self.unit_len[self.owners]) if len(self.owners) else np.zeros(0, dtype=np.int64)

    @cached_property
    def _filter_layout(self) -> dict[int, tuple[int, int]]:
        """Per gram length: (byte offset of its bitmap in ``_filter``, the bitmap's size in bits).
        A bitmap per length, sized to its grams: the few thousand short units' grams get a small
        one that stays in cache and passes almost nothing, instead of sharing the 13-grams' one."""
        layout, offset = {}, 0
        for k in self._lengths:
            bits = min(_FILTER_BITS, max(19, int(self._gram_counts[k]).bit_length() + 8))
            layout[k] = (offset, bits)
            offset += 1 << (bits - 3)
        return layout

    @cached_property
    def _filter(self) -> np.ndarray:
        layout = self._filter_layout
        bits = np.zeros(sum(1 << (b - 3) for _, b in layout.values()), dtype=np.uint8)
        lengths = self.unit_len[self.owners]
        for k, (offset, size) in layout.items():
            h = self.hashes[lengths == k]
            for q in (_probe(h, size, 0), _probe(h, size, 1)):
                np.bitwise_or.at(bits[offset:], q >> np.uint64(3), (1 << (q & np.uint64(7))).astype(np.uint8))
        return bits

    @cached_property
    def _lengths(self) -> list[int]:
        return self.gram_lengths


def _probe(h: np.ndarray, bits: int, which: int) -> np.ndarray:
    """The bitmap bit (of ``bits``) that probe 0 or 1 of the Bloom filter gives each gram hash."""
    with np.errstate(over="ignore"):
        return (h * _PROBE if which else h) >> np.uint64(64 - bits)


def _bit(table: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Whether bit ``q`` of the bitmap ``table`` is set, for each q."""
    return ((table[q >> np.uint64(3)] >> (q & np.uint64(7)).astype(np.uint8)) & 1).astype(bool)


def _first_units(unit_item: np.ndarray, n_items: int) -> np.ndarray:
    """The first unit of each item (an item's units are consecutive)."""
    first = np.zeros(n_items, dtype=np.int64)
    first[unit_item[::-1]] = np.arange(len(unit_item))[::-1]
    return first


def merge_runs(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(runs):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def load_index(c: DecontaminateConfig, resolve: Any) -> ContaminationIndex:
    """The index a step config asks for: shipped or given or built from a folder, plus the user's files."""
    parts = []
    if c.benchmarks:
        if c.benchmarks_dir:
            root = Path(resolve(c.benchmarks_dir))
            parts.append(ContaminationIndex.build(
                [it for b in c.benchmarks for it in load_benchmark(b, root, c.splits)],
                c.n, c.min_item_tokens, c.max_items_per_ngram))
        else:
            path = Path(resolve(c.index)) if c.index else SHIPPED_INDEX
            idx = ContaminationIndex.load(path)
            if (idx.n, idx.min_item_tokens, idx.max_items_per_ngram) != (c.n, c.min_item_tokens,
                                                                         c.max_items_per_ngram) or c.splits:
                raise ValueError(f"the index {path} was built with n={idx.n}, min_item_tokens={idx.min_item_tokens}, "
                                 f"max_items_per_ngram={idx.max_items_per_ngram} and default splits; give "
                                 "benchmarks_dir to index the benchmark files with other settings")
            parts.append(idx.select(list(c.benchmarks)))
    if c.files:
        items = [it for f in c.files for it in load_file(f.name, Path(resolve(f.path)), f.fields)]
        parts.append(ContaminationIndex.build(items, c.n, c.min_item_tokens, c.max_items_per_ngram))
    if not parts:
        raise ValueError("decontaminate: no benchmarks and no files to index")
    idx = parts[0] if len(parts) == 1 else ContaminationIndex.concat(parts)
    idx.min_overlap = c.min_overlap
    return idx


_MAPPED = 3  # layout of a mapped folder (3: a two-probe bitmap per gram length); a new one is a new folder
_ARRAYS = ("hashes", "owners", "unit_item", "unit_kind", "unit_grams", "unit_len", "item_names")


def cache_root() -> Path:
    """Where workers keep ready-to-map indexes (local disk; CC_CLEANER_CACHE overrides)."""
    return Path(os.environ.get("CC_CLEANER_CACHE") or Path.home() / ".cache" / "cc_cleaner") / "decontam"


def _sources_key(c: DecontaminateConfig, resolve: Any) -> str:
    """The config and the size and time of every file it reads: a changed file is a new index."""
    paths = [Path(resolve(c.index)) if c.index else SHIPPED_INDEX] if c.benchmarks and not c.benchmarks_dir else []
    if c.benchmarks and c.benchmarks_dir:
        paths += sorted(p for p in Path(resolve(c.benchmarks_dir)).rglob("*") if p.is_file())
    paths += [Path(resolve(f.path)) for f in c.files]
    stamp = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths]
    return xxhash.xxh3_64_hexdigest(json.dumps([FORMAT, _MAPPED, c.model_dump(mode="json"), stamp], sort_keys=True).encode())


def mapped_index(c: DecontaminateConfig, resolve: Any) -> ContaminationIndex:
    """The index as memory-mapped arrays on local disk: built once per machine and config (by the
    first worker to need it), then every worker maps the same pages instead of holding a copy."""
    folder = cache_root() / _sources_key(c, resolve)
    if not (folder / "meta.json").exists():
        idx = load_index(c, resolve)
        tmp = folder.with_name(f".{folder.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}")
        tmp.mkdir(parents=True)
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(idx, name))
        np.save(tmp / "filter.npy", idx._filter)
        (tmp / "meta.json").write_text(json.dumps({"n": idx.n, "min_item_tokens": idx.min_item_tokens,
                                                   "max_items_per_ngram": idx.max_items_per_ngram,
                                                   "kinds": idx.kinds, "indexed": idx.indexed}))
        try:
            tmp.rename(folder)
        except OSError:  # another worker got there first: its copy is the same
            shutil.rmtree(tmp, ignore_errors=True)
    meta = json.loads((folder / "meta.json").read_text())
    # Plain arrays over the mapped pages: np.memmap's own indexing costs more than the lookups.
    arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r").view(np.ndarray) for name in _ARRAYS}
    idx = ContaminationIndex(meta["n"], meta["min_item_tokens"], meta["max_items_per_ngram"], **arrays,
                             kinds=meta["kinds"], indexed=meta["indexed"])
    idx.__dict__["_filter"] = np.load(folder / "filter.npy", mmap_mode="r").view(np.ndarray)
    idx.min_overlap = c.min_overlap
    return idx


@register
class Decontaminate(FilterStep):
    """Adds ``contamination`` (the matched ``benchmark:item`` ids) and ``contamination_span`` (the
    matched text); drops or cuts per ``action``."""

    name = "decontaminate"
    adds = frozenset({"contamination", "contamination_items", "contamination_span"})
    Config = DecontaminateConfig
    config: DecontaminateConfig

    def setup(self) -> None:
        self.index = mapped_index(self.config, self.ctx.resolve)

    def histograms(self) -> list[Histogram]:
        return [Histogram("contamination_items", list(range(0, 6)) + [1e9], 1)]

    def evaluate(self, table: pa.Table) -> Evaluation:
        c, idx = self.config, self.index
        texts, hits, spans, reasons = [], [], [], []
        counters: dict[str, int] = {f"max:indexed:{b}": n for b, n in idx.indexed.items()}
        all_texts = table["text"].to_pylist()
        for text, maybe in zip(all_texts, idx.may_match(all_texts), strict=True):
            items, starts, ends, runs = idx.match(text) if maybe else ([], None, None, [])
            names = [str(idx.item_names[k]) for k in items]
            hits.append(names)
            merged = merge_runs(runs)
            if merged:
                a, b = max(merged, key=lambda r: r[1] - r[0])  # the longest matched run
                spans.append(text[starts[a]:ends[b - 1]][:SPAN_CHARS])
            else:
                spans.append(None)
            for bench in sorted({nm.split(":", 1)[0] for nm in names}):
                counters[f"benchmark:{bench}"] = counters.get(f"benchmark:{bench}", 0) + 1
            if not items:
                texts.append(text)
                reasons.append(None)
            elif c.action == "drop":
                texts.append(text)
                reasons.append("benchmark_contamination")
            else:
                new = cut_runs(text, starts, ends, merged)
                texts.append(new if new.strip() else text)
                reasons.append(None if new.strip() else "benchmark_contamination")
        return Evaluation({"text": pa.array(texts, pa.string()),
                           "contamination": pa.array(hits, pa.list_(pa.string())),
                           "contamination_items": pa.array([len(h) for h in hits], pa.int32()),
                           "contamination_span": pa.array(spans, pa.string())}, reasons, counters)


def cut_runs(text: str, starts: np.ndarray, ends: np.ndarray, runs: list[tuple[int, int]]) -> str:
    """``text`` without the token runs [a, b) (cuts fall on token boundaries)."""
    if not runs:
        return text
    positions = np.concatenate([np.arange(a, b) for a, b in runs])
    return cut_token_runs(text, starts, ends, positions, 1)[0]
