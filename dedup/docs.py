"""Document-level dedup: exact (normalized text) and MinHash-LSH near-duplicates.

Phases, each a set of idempotent tasks (the shuffles are files, see ``pipeline.shuffle``):

1. ``signatures`` (one task per upstream task): exact hash, shingles, MinHash signature and
   band hashes per document; records scattered by band hash.
2. ``candidates`` (one per partition): documents sharing a band (or exact) hash become a *star*
   (first id -> each other), not all pairs; MinHash pairs go to verification.
3. ``fetch`` + ``verify`` (when ``verify: true``): each upstream task sends the shingle sets of
   its documents that take part in a candidate pair to the pair's verify partition, which keeps
   the pairs whose exact Jaccard similarity reaches the threshold.
4. ``edges``, ``star1``..``starN``, ``labels``, ``clusters``, ``summary``: connected components
   over the surviving edges as rounds of partitioned tasks (``dedup.components``); in each
   cluster one document is kept (longest text, ties by id; or a seeded random pick), the others
   are dropped as ``exact_duplicate`` or ``near_duplicate``. No task holds every edge.
5. ``write`` (one per upstream task): kept documents with ``dup_cluster`` / ``dup_cluster_size``,
   dropped ones to ``rejected/`` with the id of the copy that was kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import xxhash
from pydantic import BaseModel, ConfigDict, Field

from cc_cleaner.dedup import components as cc
from cc_cleaner.dedup.common import (
    PhaseTask,
    Timer,
    normalized_hash,
    read_parts,
    write_part,
)
from cc_cleaner.dedup.minhash import (
    Permutations,
    band_hashes,
    jaccard,
    optimal_bands,
    shingle_hashes,
    signature,
)
from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.engines import Resources
from cc_cleaner.pipeline.shuffle import gather, scatter
from cc_cleaner.pipeline.stages import Phases, StageKind, register_stage_kind
from cc_cleaner.pipeline.step import split_by_reasons
from cc_cleaner.pipeline.store import Store
from cc_cleaner.pipeline.text import table_languages as languages

if TYPE_CHECKING:
    from cc_cleaner.pipeline.job import Job

EXACT_BAND = -1


class MinHashSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # One shingle for all, or per language with a "default": word_<n>gram or char_<n>gram.
    shingle: str | dict[str, str] = {"default": "word_5gram", "zh": "char_5gram", "ja": "char_5gram",
                                     "th": "char_5gram"}
    threshold: float = Field(default=0.8, gt=0, le=1)
    permutations: int = Field(default=128, ge=8, le=1024)
    bands: int | None = Field(default=None, gt=0)  # default: datasketch's optimum for the threshold
    rows: int | None = Field(default=None, gt=0)
    verify: bool = True  # keep only candidate pairs whose exact Jaccard reaches the threshold
    # Weight of missed pairs against false candidates when choosing bands x rows. Verification
    # removes false candidates, so by default it favours recall (0.5 without verification).
    false_negative_weight: float | None = Field(default=None, gt=0, lt=1)

    def shingle_for(self, lang: str) -> str:
        if isinstance(self.shingle, str):
            return self.shingle
        return self.shingle.get(lang, self.shingle.get("default", "word_5gram"))

    def band_rows(self) -> tuple[int, int]:
        if self.bands and self.rows:
            if self.bands * self.rows > self.permutations:
                raise ValueError("bands x rows exceeds permutations")
            return self.bands, self.rows
        fn = self.false_negative_weight or (0.9 if self.verify else 0.5)
        return optimal_bands(self.threshold, self.permutations, fn)


class DedupDocsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    exact: bool = True
    minhash: MinHashSpec | None = MinHashSpec()
    keep: Literal["longest", "random"] = "longest"
    partitions: int = Field(default=16, gt=0)
    examples: int = Field(default=20, ge=0)  # largest clusters listed in clusters.json
    resources: Resources = Resources()


RECORD = pa.schema([("key", pa.uint64()), ("band", pa.int16()), ("doc_id", pa.string()), ("home", pa.int32()),
                    ("length", pa.int64()), ("exact", pa.uint64()), ("node", pa.int64())])
EDGE = pa.schema([("a", pa.string()), ("b", pa.string()), ("a_home", pa.int32()), ("b_home", pa.int32()),
                  ("a_len", pa.int64()), ("b_len", pa.int64()), ("a_exact", pa.uint64()), ("b_exact", pa.uint64()),
                  ("kind", pa.string()), ("a_node", pa.int64()), ("b_node", pa.int64())])


def key_hash(strings: list[str]) -> np.ndarray:
    return np.fromiter((xxhash.xxh3_64_intdigest(s.encode()) for s in strings), dtype=np.uint64, count=len(strings))


@dataclass(frozen=True)
class DedupTask(PhaseTask):
    output: str
    stage: str
    phase: str
    index: int  # upstream task number or partition
    spec: DedupDocsSpec
    seed: int
    homes: tuple[str, ...]  # upstream task ids, in order
    inputs: tuple[tuple[str, ...], ...] = field(default=())  # upstream files per home
    redact_rejected: bool = False
    round: int = 0  # the components round (phases star<round> and labels)

    partition_phases = frozenset({"candidates", "verify", "edges", "star", "labels", "clusters", "summary"})

    # -- 1 ----------------------------------------------------------------------------------
    def _signatures(self, store: Store) -> dict[str, int]:
        mh = self.spec.minhash
        perms = Permutations.make(mh.permutations, self.seed) if mh else None
        bands, rows = mh.band_rows() if mh else (0, 0)
        pieces = []
        n = 0
        for _, t in read_parts(store, self.inputs[self.index]):
            texts = t["text"].to_pylist()
            ids = t["id"].to_pylist()
            n += len(ids)
            lengths = np.fromiter((len(x) for x in texts), dtype=np.int64, count=len(texts))
            exact = np.fromiter((normalized_hash(x) for x in texts), dtype=np.uint64, count=len(texts))
            home = np.full(len(ids), self.index, dtype=np.int32)
            node = cc.node_ids(self.index, n - len(ids), len(ids))
            if self.spec.exact:
                pieces.append(pa.table([pa.array(exact), pa.array(np.full(len(ids), EXACT_BAND, np.int16)), ids,
                                        pa.array(home), pa.array(lengths), pa.array(exact), pa.array(node)],
                                       schema=RECORD))
            if mh and ids:
                langs = languages(t)
                sigs = np.stack([signature(shingle_hashes(x, mh.shingle_for(lang), unique=False), perms)
                                 for x, lang in zip(texts, langs, strict=True)])
                bh = band_hashes(sigs, bands, rows)
                nb = bh.shape[1]
                pieces.append(pa.table([pa.array(bh.reshape(-1)), pa.array(np.tile(np.arange(nb, dtype=np.int16),
                                                                                    len(ids))),
                                        pa.array(np.repeat(np.array(ids, dtype=object), nb)),
                                        pa.array(np.repeat(home, nb)), pa.array(np.repeat(lengths, nb)),
                                        pa.array(np.repeat(exact, nb)), pa.array(np.repeat(node, nb))],
                                       schema=RECORD))
        if pieces:
            table = pa.concat_tables(pieces).combine_chunks()
            keys = table["key"].to_numpy() ^ (table["band"].to_numpy().astype(np.uint64) * np.uint64(0x9E3779B1))
            scatter(store, self.stage, "bands", f"{self.index:05d}", table, keys, self.spec.partitions)
        return {"docs_in": n}

    # -- 2 ----------------------------------------------------------------------------------
    def _candidates(self, store: Store) -> None:
        t = gather(store, self.stage, "bands", self.index, RECORD)
        if t.num_rows == 0:
            return
        t = t.sort_by([("band", "ascending"), ("key", "ascending"), ("doc_id", "ascending")])
        band, key = t["band"].to_numpy(), t["key"].to_numpy()
        same = np.concatenate(([False], (band[1:] == band[:-1]) & (key[1:] == key[:-1])))
        group_start = np.maximum.accumulate(np.where(~same, np.arange(len(same)), 0))
        other = np.flatnonzero(same)  # rows that are not the first of their group
        if len(other) == 0:
            return
        first = group_start[other]
        cols = {c: t[c].to_numpy(zero_copy_only=False) for c in ("doc_id", "home", "length", "exact", "node")}
        edges = pa.table([cols["doc_id"][first], cols["doc_id"][other], cols["home"][first], cols["home"][other],
                          cols["length"][first], cols["length"][other], cols["exact"][first], cols["exact"][other],
                          np.where(band[other] == EXACT_BAND, "exact", "minhash"), cols["node"][first],
                          cols["node"][other]], schema=EDGE)
        edges = _unique_edges(edges)
        verify = self.spec.minhash is not None and self.spec.minhash.verify
        kinds = edges["kind"].to_numpy(zero_copy_only=False)
        direct = edges.filter(pa.array(kinds == "exact" if verify else np.ones(len(kinds), bool)))
        if direct.num_rows:
            self._send_edges(store, f"c{self.index:05d}", direct)
        if not verify:  # the report still says how many candidate pairs were taken unverified
            self._count_pairs(store, int((kinds == "minhash").sum()), 0)
            return
        cand = edges.filter(pa.array(kinds == "minhash"))
        if not cand.num_rows:
            return
        vkeys = key_hash(cand["a"].to_pylist())
        scatter(store, self.stage, "pairs", f"{self.index:05d}", cand, vkeys, self.spec.partitions)
        vpart = (vkeys % np.uint64(self.spec.partitions)).astype(np.int32)
        needs = pa.table({"doc_id": pa.concat_arrays([cand["a"].combine_chunks(), cand["b"].combine_chunks()]),
                          "home": pa.concat_arrays([cand["a_home"].combine_chunks(), cand["b_home"].combine_chunks()]),
                          "vpart": np.concatenate([vpart, vpart])})
        scatter(store, self.stage, "needs", f"{self.index:05d}", needs,
                needs["home"].to_numpy().astype(np.uint64), len(self.homes))

    # -- 3 ----------------------------------------------------------------------------------
    def _fetch(self, store: Store) -> None:
        needs = gather(store, self.stage, "needs", self.index)
        if not needs.num_rows:
            return
        want: dict[str, set[int]] = {}
        for d, v in zip(needs["doc_id"].to_pylist(), needs["vpart"].to_pylist(), strict=True):
            want.setdefault(d, set()).add(v)
        mh = self.spec.minhash
        ids_out, sh_out, parts = [], [], []
        for _, t in read_parts(store, self.inputs[self.index]):
            langs = languages(t)
            for doc_id, text, lang in zip(t["id"].to_pylist(), t["text"].to_pylist(), langs, strict=True):
                if doc_id in want:
                    sh = shingle_hashes(text, mh.shingle_for(lang))
                    for v in sorted(want.pop(doc_id)):
                        ids_out.append(doc_id)
                        sh_out.append(sh)
                        parts.append(v)
        table = pa.table({"doc_id": ids_out, "shingles": pa.array(sh_out, pa.list_(pa.uint64()))})
        scatter(store, self.stage, "shingles", f"{self.index:05d}", table, np.array(parts, np.uint64),
                self.spec.partitions)

    # -- 3b ---------------------------------------------------------------------------------
    def _verify(self, store: Store) -> None:
        pairs = gather(store, self.stage, "pairs", self.index, EDGE)
        if not pairs.num_rows:
            return
        sh = gather(store, self.stage, "shingles", self.index)
        sets = {d: np.asarray(s, dtype=np.uint64) for d, s in zip(sh["doc_id"].to_pylist(),
                                                                   sh["shingles"].to_numpy(zero_copy_only=False),
                                                                   strict=True)}
        th = self.spec.minhash.threshold
        keep = [jaccard(sets[a], sets[b]) >= th for a, b in zip(pairs["a"].to_pylist(), pairs["b"].to_pylist(),
                                                                 strict=True)]
        kept = pairs.filter(pa.array(keep))
        self._count_pairs(store, pairs.num_rows, kept.num_rows)
        if kept.num_rows:
            self._send_edges(store, f"v{self.index:05d}", kept)

    def _send_edges(self, store: Store, producer: str, edges: pa.Table) -> None:
        scatter(store, self.stage, "edges", producer, edges, cc.edge_keys(edges), self.spec.partitions)

    def _count_pairs(self, store: Store, candidates: int, verified: int) -> None:
        cc.note_pairs(store, self.stage, self.index, candidates, verified)

    # -- 4 ----------------------------------------------------------------------------------
    def _edges(self, store: Store) -> None:
        cc.prepare(store, self.stage, self.index, self.spec.partitions,
                   gather(store, self.stage, "edges", self.index, EDGE))

    def _star(self, store: Store) -> None:
        cc.star_round(store, self.stage, self.round, self.index, self.spec.partitions)

    def _labels(self, store: Store) -> None:
        cc.label(store, self.stage, self.round, self.index, self.spec.partitions)

    def _clusters(self, store: Store) -> None:
        cc.clusters(store, self.stage, self.index, self.spec.keep, self.seed, len(self.homes), self.spec.examples)

    def _summary(self, store: Store) -> None:
        cc.summary(store, self.stage, self.spec.examples)

    # -- 5 ----------------------------------------------------------------------------------
    def _write(self, store: Store) -> dict[str, int]:
        dec = gather(store, self.stage, "decisions", self.index)
        info = {d: (c, s, r) for d, c, s, r in zip(dec["doc_id"].to_pylist(), dec["cluster"].to_pylist(),
                                                   dec["cluster_size"].to_pylist(), dec["reason"].to_pylist(),
                                                   strict=True)} if dec.num_rows else {}
        docs = 0
        for name, t in read_parts(store, self.inputs[self.index]):
            timer = Timer()
            ids = t["id"].to_pylist()
            rows = [info.get(i, (None, 1, None)) for i in ids]
            t = t.append_column("dup_cluster", pa.array([r[0] for r in rows], pa.string()))
            t = t.append_column("dup_cluster_size", pa.array([r[1] for r in rows], pa.int32()))
            res = split_by_reasons(t, "dedup", [r[2] for r in rows])
            kept, rejected = res.kept, res.rejected
            write_part(store, self.stage, self.homes[self.index], name, t, kept, rejected, "dedup", timer(),
                       redact=self.redact_rejected)
            docs += t.num_rows
        return {"docs_out": docs}


def _unique_edges(edges: pa.Table) -> pa.Table:
    """One edge per pair; an exact edge wins over a MinHash one for the same pair."""
    if edges.num_rows == 0:
        return edges
    e = edges.sort_by([("a", "ascending"), ("b", "ascending"), ("kind", "ascending")])  # "exact" < "minhash"
    a, b = e["a"].to_numpy(zero_copy_only=False), e["b"].to_numpy(zero_copy_only=False)
    first = np.concatenate(([True], (a[1:] != a[:-1]) | (b[1:] != b[:-1])))
    return e.filter(pa.array(first))


def dedup_docs_phases(job: Job, store: Store, index: int) -> Phases:
    spec: DedupDocsSpec = job.spec.stages[index]
    groups = layout.upstream_groups(store, job.spec.stages[index - 1].name)
    homes = tuple(groups)
    inputs = tuple(tuple(v) for v in groups.values())
    if spec.minhash:
        # Bad bands/rows fail in the driver, and the tasks get the ones it chose (no worker
        # integrates them again).
        bands, rows = spec.minhash.band_rows()
        spec = spec.model_copy(update={"minhash": spec.minhash.model_copy(update={"bands": bands, "rows": rows})})

    def tasks(phase: str, n: int, rnd: int = 0) -> Any:
        return lambda: [DedupTask(job.output, spec.name, phase, i, spec, job.spec.seed, homes, inputs,
                                  job.spec.redact_rejected, rnd)
                        for i in range(n)]

    yield "signatures", tasks("signatures", len(homes))
    yield "candidates", tasks("candidates", spec.partitions)
    if spec.minhash and spec.minhash.verify:
        yield "fetch", tasks("fetch", len(homes))
        yield "verify", tasks("verify", spec.partitions)
    yield from cc.phases(store, spec.name, spec.partitions, tasks)
    yield "write", tasks("write", len(homes))


register_stage_kind(StageKind("dedup_docs", DedupDocsSpec, frozenset({"minhash", "exact"}), dedup_docs_phases,
                              described="`minhash`/`exact` (document dedup)"))
