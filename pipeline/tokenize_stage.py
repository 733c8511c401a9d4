"""The tokenize stage: tokenized Parquet shards in a seeded key order, plus a manifest.

Every document's place in the training stream is a pure function of the job seed and its id:
its key ``xxh64("{seed}:{doc id}")``. Two versions of a corpus (a filter tightened, an input
added) therefore agree on the order of the documents they share, and a loader can hand over
from one to the other (``pipeline.loader``).

Phases (each a set of idempotent tasks with completion markers):

1. ``scatter``: one task per upstream task; tokenizes its documents (EOS appended) and sends
   each to its key range (bucket ``((key >> 32) * buckets) >> 32``), one file per upstream part.
2. ``shards``: one task per bucket; sorts the bucket's rows by key and cuts shards of
   ``shard_tokens``: a shard is a range of the key order.
3. ``manifest``: one task; lists shards with their key ranges, token/document counts and
   sha256, the tokenizer's identity and hash, the seed and the stage's config hash.

A bucket's rows are held in memory by its task: about ``shard_tokens`` x 4 bytes of token ids
with the default bucket count (one bucket per expected shard).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash
from pydantic import BaseModel, ConfigDict, Field

from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.engines import Resources
from cc_cleaner.pipeline.shuffle import gather, scatter
from cc_cleaner.pipeline.stages import Phases, StageKind, register_stage_kind
from cc_cleaner.pipeline.stats import PartStats, StepStats, breakdown, text_bytes
from cc_cleaner.pipeline.store import PARQUET_OPTS, Store
from cc_cleaner.pipeline.tokenizer import TokenizerSpec, load_tokenizer

if TYPE_CHECKING:
    from cc_cleaner.pipeline.job import Job


class TokenizeStageSpec(BaseModel):
    """Tokenize, globally shuffle (seeded) and write Parquet shards with a manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    tokenizer: TokenizerSpec
    shard_tokens: int = Field(default=100_000_000, gt=0)  # target tokens per shard file
    buckets: int | None = Field(default=None, gt=0)  # shuffle buckets; default: about one per shard
    row_group_tokens: int = Field(default=1_000_000, gt=0)
    batch_docs: int = Field(default=1000, gt=0)
    resources: Resources = Resources()


SHARD_SCHEMA = pa.schema([
    pa.field("doc_id", pa.string()),
    pa.field("source", pa.string()),
    pa.field("n_tokens", pa.int32()),
    pa.field("input_ids", pa.list_(pa.field("element", pa.uint32()))),  # Parquet's own name for list items
    pa.field("license", pa.string()),  # SPDX id of the page's declared licence (rights step), else null
    pa.field("key", pa.uint64()),  # the document's place in the training stream
    pa.field("digest", pa.uint64()),  # xxh64 of its token ids: a loader knows an unchanged document
])


def doc_keys(ids: list[str], seed: int) -> np.ndarray:
    """Documents' keys: xxh64 of the job seed and the id (uint64), whatever stage or version."""
    prefix = f"{seed}:".encode()
    return np.fromiter((xxhash.xxh64_intdigest(prefix + i.encode()) for i in ids), dtype=np.uint64, count=len(ids))


def key_range(keys: np.ndarray, buckets: int) -> np.ndarray:
    """The range (bucket) of each key: equal slices of the key space, in key order."""
    return ((keys >> np.uint64(32)) * np.uint64(buckets)) >> np.uint64(32)


def token_digests(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    data = values.astype(np.uint32, copy=False)
    return np.fromiter((xxhash.xxh64_intdigest(data[a:b].tobytes()) for a, b in zip(offsets[:-1], offsets[1:],
                                                                                      strict=True)),
                       dtype=np.uint64, count=len(offsets) - 1)


@dataclass(frozen=True)
class ScatterTask:
    output: str
    stage: str
    task_id: str
    inputs: tuple[str, ...]
    tokenizer: TokenizerSpec
    base_dir: str
    seed: int
    buckets: int
    batch_docs: int

    @property
    def marker(self) -> str:
        return layout.task_marker(self.stage, "scatter", self.task_id)

    def describe(self) -> str:
        return f"stage {self.stage!r} scatter task {self.task_id} (input: {self.inputs[0]} ...)"

    def run(self) -> dict[str, int]:
        store = Store(self.output)
        tok = load_tokenizer(self.tokenizer, self.base_dir)
        docs = 0
        for path in self.inputs:
            t0 = time.perf_counter()
            name = layout.part_of(path)
            with store.fs.open(path, "rb") as f:
                pf = pq.ParquetFile(f)
                table = pf.read(columns=[c for c in ("id", "source", "text", "lang", "license")
                                         if c in pf.schema_arrow.names])
            keys = doc_keys(table["id"].to_pylist(), self.seed)
            # Tokenized in stream order (key, id): the rows need no reordering to be scattered (a
            # bucket is a range of keys), and a bucket one producer wrote is already sorted.
            order = pc.sort_indices(table.select(["id"]).append_column("key", pa.array(keys)),
                                    sort_keys=[("key", "ascending"), ("id", "ascending")])
            table, keys = table.take(order), keys[order.to_numpy()]
            lic = table["license"] if "license" in table.column_names else pa.nulls(table.num_rows, pa.string())
            pieces = []
            for start in range(0, table.num_rows, self.batch_docs):
                batch = table.slice(start, self.batch_docs)
                values, offsets = tok.encode_batch(batch["text"].to_pylist())
                ids = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values, pa.uint32()),
                                               type=SHARD_SCHEMA.field("input_ids").type)
                pieces.append(pa.table([batch["id"], batch["source"], pa.array(np.diff(offsets).astype(np.int32)), ids,
                                        lic.slice(start, batch.num_rows), pa.array(keys[start:start + batch.num_rows]),
                                        pa.array(token_digests(values, offsets))], schema=SHARD_SCHEMA))
            rows = (pa.concat_tables(pieces) if pieces else SHARD_SCHEMA.empty_table()).combine_chunks()
            scatter(store, self.stage, "tokens", name, rows, key_range(keys, self.buckets), self.buckets)
            by = breakdown(table)
            st = PartStats(self.stage, self.task_id, 0, docs_in=rows.num_rows, docs_out=rows.num_rows,
                           bytes_in=text_bytes(table), in_by=by, out_by=by)
            st.tokens_out = int(pc.sum(rows["n_tokens"]).as_py() or 0)
            st.bytes_out = st.tokens_out * 4
            st.steps.append(StepStats("tokenize", docs_in=rows.num_rows, docs_out=rows.num_rows,
                                      bytes_in=st.bytes_in, bytes_out=st.bytes_in,
                                      counters={"tokens": st.tokens_out, **tokens_by_lang(table, rows)}))
            st.seconds = time.perf_counter() - t0
            layout.write_part(store, self.stage, name, st)
            docs += rows.num_rows
        store.write_text(self.marker, "")
        return {"docs_in": docs, "docs_out": docs}


def tokens_by_lang(docs: pa.Table, rows: pa.Table) -> dict[str, int]:
    """Counters ``tokens:lang:<code>`` (rows are the tokenized docs, in the order of ``docs``)."""
    if "lang" not in docs.column_names or not rows.num_rows:
        return {}
    langs = pc.fill_null(docs["lang"], "unknown")
    grouped = pa.table({"lang": langs, "n": rows["n_tokens"]}).group_by("lang").aggregate([("n", "sum")])
    return {f"tokens:lang:{k}": int(v) for k, v in zip(grouped["lang"].to_pylist(), grouped["n_sum"].to_pylist(),
                                                        strict=True)}


@dataclass(frozen=True)
class BucketTask:
    output: str
    stage: str
    bucket: int
    seed: int
    shard_tokens: int
    row_group_tokens: int

    @property
    def marker(self) -> str:
        return layout.task_marker(self.stage, "shards", f"b{self.bucket:05d}")

    def describe(self) -> str:
        return f"stage {self.stage!r} shard task for bucket {self.bucket}"

    @staticmethod
    def info_file(stage: str, bucket: int) -> str:
        return f"{layout.shuffle_dir(stage, 'info', bucket)}.json"

    def run(self) -> dict[str, int]:
        store = Store(self.output)
        # One chunk: take() on a chunked list column is several times slower.
        rows = gather(store, self.stage, "tokens", self.bucket, SHARD_SCHEMA)
        order = pc.sort_indices(rows.select(["key", "doc_id"]), sort_keys=[("key", "ascending"), ("doc_id", "ascending")])
        if not np.array_equal(order.to_numpy(), np.arange(rows.num_rows)):  # sorted when one producer wrote it all
            rows = rows.take(order)
        cum = np.cumsum(rows["n_tokens"].to_numpy())
        shards = []
        start, k = 0, 0
        while start < rows.num_rows:
            base = cum[start - 1] if start else 0
            end = int(np.searchsorted(cum, base + self.shard_tokens, side="left")) + 1
            end = min(max(end, start + 1), rows.num_rows)
            shard = rows.slice(start, end - start)
            name = f"b{self.bucket:05d}-{k:05d}.parquet"
            data = shard_bytes(shard, self.row_group_tokens)
            store.write_bytes(f"{self.stage}/shards/{name}", data)
            keys = shard["key"]
            shards.append({"file": f"shards/{name}", "bucket": self.bucket, "first_key": keys[0].as_py(),
                           "last_key": keys[-1].as_py(), "docs": shard.num_rows,
                           "tokens": int(pc.sum(shard["n_tokens"]).as_py() or 0),
                           "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                           "tokens_by_license": tokens_by_license(shard)})
            start, k = end, k + 1
        store.write_text(self.info_file(self.stage, self.bucket), json.dumps(shards))
        store.write_text(self.marker, "")
        return {}  # documents were counted by the scatter phase


def tokens_by_license(shard: pa.Table) -> dict[str, int]:
    """Tokens per licence (``none``: no declared licence) for audits and licence-filtered training."""
    if not shard.num_rows:
        return {}
    t = pa.table({"l": pc.fill_null(shard["license"], "none"), "n": shard["n_tokens"]})
    g = t.group_by("l").aggregate([("n", "sum")])
    return dict(sorted(zip(g["l"].to_pylist(), map(int, g["n_sum"].to_pylist()), strict=True)))


def shard_bytes(shard: pa.Table, row_group_tokens: int) -> bytes:
    mean = max(1.0, (pc.sum(shard["n_tokens"]).as_py() or 0) / max(1, shard.num_rows))
    buf = io.BytesIO()
    # Token ids do not dictionary-encode well: trying costs time and bytes.
    pq.write_table(shard, buf, row_group_size=max(1, int(row_group_tokens / mean)),
                   **{**PARQUET_OPTS, "use_dictionary": ["doc_id", "source", "license"]})
    return buf.getvalue()


@dataclass(frozen=True)
class ManifestTask:
    output: str
    stage: str
    buckets: int
    info: dict[str, Any]  # tokenizer identity, seed, config hash, job name

    @property
    def marker(self) -> str:
        return layout.task_marker(self.stage, "manifest", "manifest")

    def describe(self) -> str:
        return f"stage {self.stage!r} manifest"

    def run(self) -> dict[str, int]:
        store = Store(self.output)
        shards = []
        for b in range(self.buckets):
            rel = BucketTask.info_file(self.stage, b)
            if store.exists(rel):
                shards += json.loads(store.read_text(rel))
        by_license: Counter = Counter()
        for s in shards:
            by_license.update(s.get("tokens_by_license", {}))
        manifest = {"format": "cc-cleaner-shards/2", **self.info, "buckets": self.buckets,
                    "order": "key = xxh64('{seed}:{doc_id}'); bucket = ((key >> 32) * buckets) >> 32; "
                             "shards in (bucket, first_key) order hold their documents in key order",
                    "total_tokens": sum(s["tokens"] for s in shards), "total_docs": sum(s["docs"] for s in shards),
                    "tokens_by_license": dict(sorted(by_license.items())),
                    "columns": {"input_ids": "list<uint32>, EOS appended", "doc_id": "string",
                                "source": "string", "n_tokens": "int32", "license": "string (SPDX id) or null",
                                "key": "uint64 (stream order)", "digest": "uint64 (xxh64 of the token ids)"},
                    "shards": shards}
        store.write_text(f"{self.stage}/manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
        store.write_text(self.marker, "")
        return {}


def estimated_buckets(store: Store, files: list[str], shard_tokens: int) -> int:
    """About one bucket per expected shard, from the upstream text size (~4 bytes a token)."""
    text_bytes = 0
    for path in files:
        with store.fs.open(path, "rb") as f:
            md = pq.ParquetFile(f).metadata
        names = [md.schema.column(i).name for i in range(md.num_columns)]
        if "text" in names:
            col = names.index("text")
            text_bytes += sum(md.row_group(r).column(col).total_uncompressed_size for r in range(md.num_row_groups))
    return max(1, min(10_000, math.ceil(text_bytes / 4 / shard_tokens)))


def tokenize_phases(job: Job, store: Store, index: int) -> Phases:
    stage = job.spec.stages[index]
    groups = layout.upstream_groups(store, job.spec.stages[index - 1].name)
    files = [f for fs in groups.values() for f in fs]
    buckets = stage.buckets or estimated_buckets(store, files, stage.shard_tokens)

    def scatter() -> list[ScatterTask]:
        tok = load_tokenizer(stage.tokenizer, job.base_dir)  # fails here, in the driver, if it cannot load
        del tok
        return [ScatterTask(job.output, stage.name, tid, tuple(fs), stage.tokenizer, job.base_dir, job.spec.seed,
                            buckets, stage.batch_docs) for tid, fs in groups.items()]

    def shards() -> list[BucketTask]:
        return [BucketTask(job.output, stage.name, b, job.spec.seed, stage.shard_tokens, stage.row_group_tokens)
                for b in range(buckets)]

    def manifest() -> list[ManifestTask]:
        tok = load_tokenizer(stage.tokenizer, job.base_dir)
        info = {"job": job.spec.name, "stage": stage.name, "seed": job.spec.seed,
                "config_hash": job.stage_hash(index), "tokenizer": tok.identity(),
                "shard_tokens": stage.shard_tokens}
        return [ManifestTask(job.output, stage.name, buckets, info)]

    return [("scatter", scatter), ("shards", shards), ("manifest", manifest)]


register_stage_kind(StageKind("tokenize", TokenizeStageSpec, frozenset({"tokenizer"}), tokenize_phases,
                              described="`tokenizer` (tokenize)"))
