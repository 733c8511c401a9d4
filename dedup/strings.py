"""String-level dedup: lines repeated across the corpus, and long repeated substrings.

``lines`` (CCNet-style): every line is normalised (lower case, digits -> 0, white space
folded) and hashed; the number of *documents* holding each line is counted globally; lines held
by more than ``max_repeats`` documents are boilerplate and are removed from every document.
Each ``apply`` task loads the set of frequent line hashes: 8 bytes per frequent line.

``substrings`` (exact substrings of at least ``min_tokens`` tokens, after Lee et al. 2022):
documents are fingerprinted by winnowing (the minimum hash of every ``window`` consecutive
``k``-token shingles, k = min_tokens - window + 1), which guarantees that any repeat of at
least ``min_tokens`` tokens shares a fingerprint. For each fingerprint seen more than once,
the occurrence in the document with the smallest seeded priority (then position) is kept and
the others are marked; runs of marked tokens of at least ``min_tokens`` are cut from the text
at token boundaries (never inside a character). With the default ``window: 1`` every k-gram is
a fingerprint and the cut repeats are exact; a larger window ships ~2/(window+1) of them and may
leave up to ``window - 1`` tokens at each end of a repeat. A ``matches`` task holds its
partition's fingerprints: about 32 bytes x tokens x 2/(window+1) / partitions. Documents left
empty are dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import xxhash
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cc_cleaner.dedup.common import PhaseTask, Timer, read_parts, write_part
from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.engines import Resources
from cc_cleaner.pipeline.shuffle import gather, scatter
from cc_cleaner.pipeline.stages import Phases, StageKind, register_stage_kind
from cc_cleaner.pipeline.stats import PartStats
from cc_cleaner.pipeline.step import split_by_reasons
from cc_cleaner.pipeline.store import Store
from cc_cleaner.pipeline.text import covered_runs, kgram_hashes, sentence_units, token_spans

if TYPE_CHECKING:
    from cc_cleaner.pipeline.job import Job

_DIGITS = re.compile(r"\d")
_WORD = re.compile(r"\w")


class LinesSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_repeats: int = Field(default=10, ge=1)  # a line in more documents than this is removed
    min_chars: int = Field(default=10, ge=1)  # shorter normalised lines are left alone


class SubstringsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min_tokens: int = Field(default=50, ge=8)
    window: int = Field(default=1, ge=1)
    # Cuts snap to sentences (within lines): a sentence goes when at least this share of its
    # characters lies in a repeat, else it stays whole. Output lines are never fragments.
    unit_cover: float = Field(default=0.5, gt=0, le=1)

    @model_validator(mode="after")
    def _k(self) -> SubstringsSpec:
        if self.window >= self.min_tokens:
            raise ValueError("window must be smaller than min_tokens")
        return self

    @property
    def k(self) -> int:
        return self.min_tokens - self.window + 1


class DedupStringsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    lines: LinesSpec | None = None
    substrings: SubstringsSpec | None = None
    partitions: int = Field(default=16, gt=0)
    # Drop a document (reason mostly_duplicate) when line or substring dedup removed more than
    # this share of its characters (white space not counted); null: never.
    max_removed: float | None = Field(default=0.5, gt=0, le=1)
    resources: Resources = Resources()

    @model_validator(mode="after")
    def _something(self) -> DedupStringsSpec:
        if self.lines is None and self.substrings is None:
            raise ValueError("give lines, substrings or both")
        return self


def line_hashes(text: str, min_chars: int) -> list[int | None]:
    """Hash of each line of ``text`` (None for lines too short to judge) once lower-cased, its
    digits made 0 and its white-space runs one space, stripped. Lower-casing and digits are done
    on the whole text at once (a newline is no digit and ends lower-casing's context); a line's
    white space by ``str.split``, the same characters as ``\\s``, 1.8x faster than a regex."""
    out: list[int | None] = []
    for line in _DIGITS.sub("0", text.lower()).split("\n"):
        k = " ".join(line.split())
        out.append(xxhash.xxh3_64_intdigest(k.encode("utf-8", "surrogatepass")) if len(k) >= min_chars else None)
    return out


def winnow(hashes: np.ndarray, window: int) -> np.ndarray:
    """Positions of the winnowing fingerprints (rightmost minimum of each window), unique, sorted."""
    if len(hashes) == 0:
        return np.empty(0, dtype=np.int64)
    if window == 1:  # every position is its own window's minimum
        return np.arange(len(hashes))
    if len(hashes) <= window:
        return np.array([len(hashes) - 1 - int(np.argmin(hashes[::-1]))])
    views = np.lib.stride_tricks.sliding_window_view(hashes, window)
    rightmost = window - 1 - np.argmin(views[:, ::-1], axis=1)
    return np.unique(np.arange(len(views)) + rightmost)


@dataclass(frozen=True)
class StringsTask(PhaseTask):
    output: str
    stage: str
    phase: str
    index: int
    spec: DedupStringsSpec
    seed: int
    homes: tuple[str, ...]
    inputs: tuple[tuple[str, ...], ...]
    redact_rejected: bool = False

    partition_phases = frozenset({"line_counts", "matches"})

    def _sources(self, store: Store, after_lines: bool) -> Any:
        if after_lines:
            files = tuple(store.path(layout.data_file(_lines(self.stage), layout.part_of(p)))
                          for p in self.inputs[self.index])
            return read_parts(store, files)
        return read_parts(store, self.inputs[self.index])

    # -- lines ------------------------------------------------------------------------------
    def _line_hash(self, store: Store) -> dict[str, int]:
        seen: dict[int, int] = {}
        n = 0
        for _, t in read_parts(store, self.inputs[self.index], ["text"]):
            for text in t["text"].to_pylist():
                n += 1
                for h in set(line_hashes(text, self.spec.lines.min_chars)):
                    if h is not None:
                        seen[h] = seen.get(h, 0) + 1
        if seen:
            keys = np.fromiter(seen.keys(), dtype=np.uint64, count=len(seen))
            counts = np.fromiter(seen.values(), dtype=np.int64, count=len(seen))
            scatter(store, self.stage, "lines", f"{self.index:05d}", pa.table({"h": keys, "n": counts}), keys,
                    self.spec.partitions)
        return {"docs_in": n}

    def _line_counts(self, store: Store) -> None:
        t = gather(store, self.stage, "lines", self.index)
        if not t.num_rows:
            return
        keys, inv = np.unique(t["h"].to_numpy(), return_inverse=True)
        totals = np.bincount(inv, weights=t["n"].to_numpy()).astype(np.int64)
        frequent = keys[totals > self.spec.lines.max_repeats]
        scatter(store, self.stage, "frequent", f"{self.index:05d}", pa.table({"h": frequent}),
                np.zeros(len(frequent), np.uint64), 1)

    def _line_apply(self, store: Store) -> dict[str, int]:
        frequent = set(gather(store, self.stage, "frequent", 0, pa.schema([("h", pa.uint64())]))["h"].to_pylist())
        final = self.spec.substrings is None
        out_stage = self.stage if final else _lines(self.stage)
        for name, t in read_parts(store, self.inputs[self.index]):
            timer = Timer()
            texts, reasons, removed = [], [], 0
            for text in t["text"].to_pylist():
                lines = text.split("\n")
                hs = line_hashes(text, self.spec.lines.min_chars)
                kept = [ln for ln, h in zip(lines, hs, strict=True) if h is None or h not in frequent]
                removed += len(lines) - len(kept)
                new = "\n".join(kept).strip()
                texts.append(new if new else text)
                reasons.append("empty_after_line_dedup" if not new else
                               "mostly_duplicate" if self._mostly_removed(text, new) else None)
            t2 = t.set_column(t.column_names.index("text"), "text", pa.array(texts, pa.string()))
            res = split_by_reasons(t2, "dedup_lines", reasons)
            kept_t, rej = res.kept, res.rejected
            write_part(store, out_stage, self.homes[self.index], name, t, kept_t, rej,
                       "dedup_lines", timer(), {"lines_removed": removed}, redact=self.redact_rejected)
        return {}

    def _mostly_removed(self, before: str, after: str) -> bool:
        limit = self.spec.max_removed
        return limit is not None and 1 - _chars(after) / max(1, _chars(before)) > limit

    # -- substrings -------------------------------------------------------------------------
    def _fingerprints(self, store: Store) -> dict[str, int]:
        sub = self.spec.substrings
        fps, ids, docs, pos, pri = [], [], [], [], []
        n = 0
        for _, t in self._sources(store, self.spec.lines is not None):
            for doc_id, text in zip(t["id"].to_pylist(), t["text"].to_pylist(), strict=True):
                n += 1
                _, _, tok = token_spans(text)
                if len(tok) < sub.min_tokens:
                    continue
                kh = kgram_hashes(tok, sub.k)
                sel = winnow(kh, sub.window)
                fps.append(kh[sel])
                pos.append(sel)
                docs.append(np.full(len(sel), len(ids), dtype=np.int32))  # the id's index: Arrow repeats it
                ids.append(doc_id)
                pri.append(np.full(len(sel), xxhash.xxh3_64_intdigest(f"{self.seed}:{doc_id}".encode()), np.uint64))
        if fps:
            fp = np.concatenate(fps)
            doc_ids = pa.array(ids, pa.string()).take(pa.array(np.concatenate(docs)))
            table = pa.table({"fp": fp, "doc_id": doc_ids, "pos": np.concatenate(pos),
                              "pri": np.concatenate(pri), "home": np.full(len(fp), self.index, np.int32)})
            scatter(store, self.stage, "fingerprints", f"{self.index:05d}", table, fp, self.spec.partitions)
        return {"docs_in": n} if self.spec.lines is None else {}

    def _matches(self, store: Store) -> None:
        t = gather(store, self.stage, "fingerprints", self.index)
        if not t.num_rows:
            return
        t = t.sort_by([("fp", "ascending"), ("pri", "ascending"), ("doc_id", "ascending"), ("pos", "ascending")])
        fp = t["fp"].to_numpy()
        dup = np.concatenate(([False], fp[1:] == fp[:-1]))  # every occurrence after the first kept one
        # The first occurrence of a repeated fingerprint is the copy that stays: its document
        # must not be dropped as mostly_duplicate, or the text would survive nowhere.
        source = ~dup & np.concatenate((fp[1:] == fp[:-1], [False]))
        marked = t.filter(pa.array(dup | source)).select(["doc_id", "pos", "home"])
        marked = marked.append_column("source", pa.array(source[dup | source]))
        if marked.num_rows:
            scatter(store, self.stage, "marked", f"{self.index:05d}", marked,
                    marked["home"].to_numpy().astype(np.uint64), len(self.homes))

    def _substring_apply(self, store: Store) -> dict[str, int]:
        sub = self.spec.substrings
        m = gather(store, self.stage, "marked", self.index)
        marks: dict[str, tuple[list[int], list[int]]] = {}
        cols = [m[c].to_pylist() for c in ("doc_id", "pos", "source")] if m.num_rows else [[], [], []]
        for d, p, is_source in zip(*cols, strict=True):
            marks.setdefault(d, ([], []))[bool(is_source)].append(p)
        docs = 0
        for name, t in self._sources(store, self.spec.lines is not None):
            timer = Timer()
            texts, reasons = [], []
            counters = {"units_removed": 0, "chars_removed": 0, "sources_kept_whole": 0}
            for doc_id, text in zip(t["id"].to_pylist(), t["text"].to_pylist(), strict=True):
                cut, source = marks.get(doc_id, ([], []))
                new, n_units, is_source = cut_marked(text, cut, source, sub) if cut else (text, 0, False)
                counters["units_removed"] += n_units
                counters["chars_removed"] += len(text) - len(new)
                texts.append(new if new.strip() else text)
                mostly = self._mostly_removed(text, new)
                counters["sources_kept_whole"] += mostly and is_source and bool(new.strip())
                reasons.append("empty_after_substring_dedup" if not new.strip() else
                               "mostly_duplicate" if mostly and not is_source else None)
            t2 = t.set_column(t.column_names.index("text"), "text", pa.array(texts, pa.string()))
            res = split_by_reasons(t2, "dedup_substrings", reasons)
            kept, rej = res.kept, res.rejected
            earlier = _lines_rejected(store, self.stage, name) if self.spec.lines is not None else None
            after_lines = None
            if self.spec.lines is not None:
                def after_lines(st: PartStats, name: str = name) -> str:
                    return _with_lines_stats(store, self.stage, name, st)
            write_part(store, self.stage, self.homes[self.index], name, t, kept, rej, "dedup_substrings",
                       timer(), counters, earlier, redact=self.redact_rejected, finish_stats=after_lines)
            docs += t.num_rows
        return {"docs_out": docs}


def _chars(text: str) -> int:
    return len(text) - sum(text.count(c) for c in " \t\n\r\u00a0\u3000")


def cut_marked(text: str, marked: list[int], sources: list[int], sub: SubstringsSpec) -> tuple[str, int, bool]:
    """Remove the sentences that runs of at least ``min_tokens`` marked tokens cover (at least
    ``unit_cover`` of a sentence's word characters; see ``pipeline.text.sentence_units``).

    Returns (text, sentences removed, whether a kept sentence holds the staying copy of a repeat
    -- ``sources`` are the k-gram positions this document keeps for the others)."""
    starts, ends, _ = token_spans(text)
    n = len(text)

    def char_mask(positions: list[int], min_run: int) -> np.ndarray:
        edge = np.zeros(n + 1, dtype=np.int64)
        for a, b in covered_runs(len(starts), np.asarray(positions), sub.k, min_run):
            np.add.at(edge, starts[a:b], 1)
            np.add.at(edge, ends[a:b], -1)
        return np.cumsum(edge)[:-1] > 0

    in_token = np.zeros(n + 1, dtype=np.int64)
    np.add.at(in_token, starts, 1)
    np.add.at(in_token, ends, -1)
    tok_chars = np.concatenate(([0], np.cumsum(np.cumsum(in_token)[:-1] > 0)))
    cut_chars = np.concatenate(([0], np.cumsum(char_mask(marked, sub.min_tokens))))
    src = char_mask(sources, 1) if sources else None
    removed: list[tuple[int, int]] = []
    is_source = False
    for a, b in sentence_units(text):
        words, cut = tok_chars[b] - tok_chars[a], cut_chars[b] - cut_chars[a]
        if cut and cut >= sub.unit_cover * words:
            removed.append((a, b))
        elif src is not None and src[a:b].any():
            is_source = True
    if not removed:
        return text, 0, is_source
    out, pos, k = [], 0, 0
    for line in text.split("\n"):  # a line loses its removed sentences; a line left without words goes
        end = pos + len(line)
        pieces, last, touched = [], pos, False
        while k < len(removed) and removed[k][0] < end:
            ra, rb = removed[k]
            pieces.append(text[last:ra])
            last, touched, k = rb, True, k + 1
        pieces.append(text[last:end])
        kept = "".join(pieces).strip() if touched else line
        if not touched or _WORD.search(kept):
            out.append(kept)
        pos = end + 1
    return "\n".join(out).strip(), len(removed), is_source


def _lines(stage: str) -> str:
    """Where the lines pass writes when a substrings pass follows it."""
    return f"{stage}/_lines"


def _lines_rejected(store: Store, stage: str, name: str) -> pa.Table | None:
    rel = layout.rejected_file(_lines(stage), name)
    return store.read_table(rel) if store.exists(rel) else None


def _with_lines_stats(store: Store, stage: str, name: str, st: PartStats) -> str:
    """One stats file per part for the stage: the lines step's counts first."""
    lines = json.loads(store.read_text(layout.stats_file(_lines(stage), name)))
    final = json.loads(st.to_json())
    final["docs_in"], final["bytes_in"], final["in_by"] = lines["docs_in"], lines["bytes_in"], lines["in_by"]
    final["steps"] = lines["steps"] + final["steps"]
    return json.dumps(final, sort_keys=True, indent=1)


def dedup_strings_phases(job: Job, store: Store, index: int) -> Phases:
    spec: DedupStringsSpec = job.spec.stages[index]
    groups = layout.upstream_groups(store, job.spec.stages[index - 1].name)
    homes, inputs = tuple(groups), tuple(tuple(v) for v in groups.values())

    def tasks(phase: str, n: int) -> Any:
        return lambda: [StringsTask(job.output, spec.name, phase, i, spec, job.spec.seed, homes, inputs,
                                        job.spec.redact_rejected)
                        for i in range(n)]

    phases = []
    if spec.lines:
        phases += [("line_hash", tasks("line_hash", len(homes))), ("line_counts", tasks("line_counts", spec.partitions)),
                   ("line_apply", tasks("line_apply", len(homes)))]
    if spec.substrings:
        phases += [("fingerprints", tasks("fingerprints", len(homes))), ("matches", tasks("matches", spec.partitions)),
                   ("substring_apply", tasks("substring_apply", len(homes)))]
    return phases


register_stage_kind(StageKind("dedup_strings", DedupStringsSpec, frozenset({"lines", "substrings"}),
                              dedup_strings_phases, described="`lines`/`substrings` (string dedup)"))
