"""The trainer side: stream a tokenize stage's shards in key order, packed into sequences.

    loader = ShardLoader("OUT/tokenize/manifest.json", seq_len=2048, rank=r, world_size=w)
    for seq in loader:            # numpy uint32 arrays of seq_len tokens
        ...
    state = loader.state_dict()   # resume exactly, on this corpus or on a newer version of it:
    loader = ShardLoader("OUT_v2/tokenize/manifest.json", 2048, rank=r, world_size=w)
    loader.load_state_dict(state)

The stream of an epoch is every document (EOS-terminated) in *stream order*, concatenated and
cut into ``seq_len`` tokens; sequence ``i`` (counted from where the loader started or resumed)
belongs to rank ``i % world_size``. Stream order is a function of the job seed, the epoch and
each document's id alone (``pipeline.tokenize_stage``): epoch 0 is key order; a later epoch
visits the key ranges (buckets) in an order permuted by (seed, epoch) and starts each range at
a point drawn from (seed, epoch, range), wrapping round. Two versions of a corpus with the same
seed (and, for epochs after the first, the same bucket count) therefore agree on the order of
the documents they share.

A state is a position in that order: (epoch, range, document key, token offset, the document's
digest), the same on every rank. Loaded on another version, the stream goes on from the same
point: a document that survives is not seen twice, none after the point is skipped, removed
ones are gone and added ones come at their places; a document read half-way goes on at its
token offset when its tokens are unchanged (same digest), else the next document starts.
Memory: one row group of token ids at a time (``row_group_tokens`` of the stage).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import fsspec
import numpy as np
import pyarrow.parquet as pq
import xxhash

_U64 = 1 << 64


@dataclass(frozen=True)
class Position:
    """The next token to read: token ``offset`` of the document with ``key`` in the epoch's
    ``range_index``-th range (``digest`` tells whether that document is unchanged)."""

    epoch: int
    range_index: int
    key: int
    offset: int
    digest: int


@dataclass
class Chunk:
    """Token ids of consecutive documents of one range, in stream order."""

    tokens: np.ndarray  # uint32, flat
    starts: np.ndarray  # offset in ``tokens`` of each document's first token
    doc_ids: list[str] | None
    first_offset: int  # tokens of the first document already consumed before this chunk


class Corpus:
    """One version of a tokenized corpus: its shards grouped by key range."""

    def __init__(self, manifest: str) -> None:
        with fsspec.open(manifest, "rt", encoding="utf-8") as f:
            self.manifest = json.load(f)
        if not str(self.manifest.get("format", "")).endswith("/2"):
            raise ValueError(f"{manifest}: shards written before key order (format "
                             f"{self.manifest.get('format')}); re-run the tokenize stage")
        self.root = posixpath.dirname(manifest)
        self.seed = int(self.manifest["seed"])
        self.buckets = int(self.manifest["buckets"])
        self.ranges: dict[int, list[dict[str, Any]]] = {}
        for s in self.manifest["shards"]:
            self.ranges.setdefault(int(s["bucket"]), []).append(s)
        for files in self.ranges.values():
            files.sort(key=lambda s: s["first_key"])

    @property
    def total_tokens(self) -> int:
        return int(self.manifest["total_tokens"])

    def range_order(self, epoch: int) -> list[int]:
        if epoch == 0:
            return list(range(self.buckets))
        return [int(i) for i in np.random.default_rng([self.seed, epoch, 0x5EED]).permutation(self.buckets)]

    def pivot(self, epoch: int, bucket: int) -> int:
        """Where an epoch starts a range (0: at its first key)."""
        return 0 if epoch == 0 else xxhash.xxh64_intdigest(f"{self.seed}:{epoch}:{bucket}".encode())

    def open(self, shard: dict[str, Any]) -> pq.ParquetFile:
        return pq.ParquetFile(fsspec.open(posixpath.join(self.root, shard["file"]), "rb").open())

    def range_chunks(self, epoch: int, range_index: int, key: int | None = None, offset: int = 0,
                     digest: int | None = None, with_ids: bool = False) -> Iterator[Chunk]:
        """The range's documents in stream order, from ``key`` on (the document with that key and
        digest from ``offset``; else the next one), as one chunk per row group read."""
        bucket = self.range_order(epoch)[range_index]
        pivot = self.pivot(epoch, bucket)
        start_rank = None if key is None else np.uint64((key - pivot) % _U64)
        # Rotated order: the keys from the pivot up, then those below it. Rows are in key order
        # in each file, so what a row group contributes is one contiguous run of its rows.
        for lap in (0, 1):
            for shard in self.ranges.get(bucket, []):
                if (lap == 0 and shard["last_key"] < pivot) or (lap == 1 and shard["first_key"] >= pivot):
                    continue
                pf = self.open(shard)
                cols = ["key", "digest", "n_tokens"] + (["doc_id"] if with_ids else [])
                for rg in range(pf.num_row_groups):
                    meta = pf.read_row_group(rg, columns=cols)
                    keys = meta["key"].to_numpy()
                    mask = keys >= np.uint64(pivot) if lap == 0 else keys < np.uint64(pivot)
                    if start_rank is not None:
                        mask &= _rank(keys, pivot) >= start_rank
                    idx = np.flatnonzero(mask)
                    if not len(idx):
                        continue
                    first_offset = 0
                    if start_rank is not None:
                        if int(keys[idx[0]]) == key:
                            if digest is None or int(meta["digest"][int(idx[0])].as_py()) == digest:
                                first_offset = offset
                            else:  # changed since the state was taken: the next document starts
                                idx = idx[1:]
                        start_rank = None
                        if not len(idx):
                            continue
                    yield self._chunk(pf, rg, meta, idx, first_offset, with_ids)

    @staticmethod
    def _chunk(pf: pq.ParquetFile, rg: int, meta: Any, idx: np.ndarray, first_offset: int, with_ids: bool) -> Chunk:
        ids = pf.read_row_group(rg, columns=["input_ids"])["input_ids"].combine_chunks()
        offsets = ids.offsets.to_numpy()
        flat = ids.values.to_numpy()
        a, b = int(idx[0]), int(idx[-1]) + 1  # idx is one contiguous run within a row group
        tokens = flat[offsets[a] + first_offset:offsets[b]]
        starts = offsets[a:b] - offsets[a] - first_offset
        starts[0] = 0
        return Chunk(tokens, starts, meta["doc_id"].to_pylist()[a:b] if with_ids else None, first_offset)


def _rank(keys: np.ndarray, pivot: int) -> np.ndarray:
    """Place in a range rotated at ``pivot`` (uint64 wrap-around subtraction)."""
    with np.errstate(over="ignore"):
        return keys - np.uint64(pivot)


class ShardLoader:
    def __init__(self, manifest: str, seq_len: int, rank: int = 0, world_size: int = 1, epoch: int = 0,
                 pad_id: int | None = None, with_doc_ids: bool = False, seed: int | None = None) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world_size {world_size}")
        self.corpus = Corpus(manifest)
        if seed is not None and seed != self.corpus.seed:  # the order is the job's: its seed decides
            raise ValueError(f"the stream order comes from the job seed ({self.corpus.seed}); seed={seed} "
                             "cannot change it (leave it out)")
        self.seq_len, self.rank, self.world_size, self.pad_id = seq_len, rank, world_size, pad_id
        self.with_doc_ids = with_doc_ids
        self.start = Position(epoch, 0, -1, 0, 0)  # where the current run of sequences began (-1: range start)
        self.consumed = 0  # sequences of all ranks consumed since ``start`` (complete rounds)
        self._locate_cache: tuple[int, Position] | None = None
        # with_doc_ids: (doc id, first token, end token) of each document in the last sequence
        self.last_docs: list[tuple[str, int, int]] = []

    @property
    def total_tokens(self) -> int:
        return self.corpus.total_tokens

    @property
    def epoch(self) -> int:
        return self.state_position().epoch

    # -- the stream ------------------------------------------------------------------------

    def _chunks(self, pos: Position, with_ids: bool = False) -> Iterator[Chunk]:
        """The epoch's stream from ``pos`` to its end."""
        for ri in range(pos.range_index, self.corpus.buckets):
            if ri == pos.range_index and pos.key >= 0:
                yield from self.corpus.range_chunks(pos.epoch, ri, pos.key, pos.offset, pos.digest, with_ids)
            else:
                yield from self.corpus.range_chunks(pos.epoch, ri, with_ids=with_ids)

    def __iter__(self) -> Iterator[np.ndarray]:
        L, W = self.seq_len, self.world_size
        while True:
            j = self.consumed + self.rank  # next global sequence (from ``start``) of this rank
            buf: list[Chunk] = []
            buf_start = 0  # stream token (from ``start``) of buf[0].tokens[0]
            have = 0
            for ch in self._chunks(self.start, self.with_doc_ids):
                buf.append(ch)
                have += len(ch.tokens)
                while buf_start + have >= (j + 1) * L:
                    seq, docs = self._take(buf, buf_start, j * L, L)
                    self.consumed = j - self.rank + W  # this round, every rank's sequence of it, is done
                    self.last_docs = docs
                    j += W
                    yield seq
                drop = 0  # chunks wholly before this rank's next sequence
                while drop < len(buf) - 1 and buf_start + len(buf[drop].tokens) <= j * L:
                    buf_start += len(buf[drop].tokens)
                    have -= len(buf[drop].tokens)
                    drop += 1
                del buf[:drop]
            if self.pad_id is not None and buf and buf_start + have > j * L:  # a last, partial sequence
                seq, docs = self._take(buf, buf_start, j * L, buf_start + have - j * L)
                out = np.full(L, self.pad_id, dtype=np.uint32)
                out[:len(seq)] = seq
                self.last_docs = docs
                yield out
            # The epoch is over: the next one starts at its first range.
            self.start = Position(self.start.epoch + 1, 0, -1, 0, 0)
            self.consumed, self._locate_cache = 0, None
            return

    @staticmethod
    def _take(buf: list[Chunk], buf_start: int, t0: int, n: int) -> tuple[np.ndarray, list]:
        """Tokens [t0, t0 + n) of the stream (and which documents they come from)."""
        parts, docs, pos = [], [], buf_start
        for ch in buf:
            a, b = max(t0, pos), min(t0 + n, pos + len(ch.tokens))
            if a < b:
                parts.append(ch.tokens[a - pos:b - pos])
                if ch.doc_ids is not None:
                    ends = np.append(ch.starts[1:], len(ch.tokens))
                    for i in np.flatnonzero((ch.starts < b - pos) & (ends > a - pos)):
                        base = int(ch.starts[i]) - (ch.first_offset if i == 0 else 0)  # token 0 of the document
                        docs.append((ch.doc_ids[i], max(a - pos, int(ch.starts[i])) - base,
                                     min(b - pos, int(ends[i])) - base))
            pos += len(ch.tokens)
            if pos >= t0 + n:
                break
        return (parts[0] if len(parts) == 1 else np.concatenate(parts)), docs

    # -- state -----------------------------------------------------------------------------

    def state_position(self) -> Position:
        """The stream position after every rank's consumed sequences (the same on every rank)."""
        return self._locate(self.consumed * self.seq_len)

    def _locate(self, tokens: int) -> Position:
        """The position ``tokens`` into the stream from ``start`` (token counts only, no token ids)."""
        base_tokens, pos = self._locate_cache if self._locate_cache and self._locate_cache[0] <= tokens \
            else (0, self.start)
        need = tokens - base_tokens
        if need == 0:
            return pos
        for ri in range(pos.range_index, self.corpus.buckets):
            first = ri == pos.range_index and pos.key >= 0
            for key, digest, n, off in self._doc_sizes(pos.epoch, ri, pos if first else None):
                left = n - off
                if need < left:
                    found = Position(pos.epoch, ri, key, off + need, digest)
                    self._locate_cache = (tokens, found)
                    return found
                need -= left
        found = Position(pos.epoch + 1, 0, -1, 0, 0)  # the end of the epoch
        self._locate_cache = (tokens, found)
        return found

    def _doc_sizes(self, epoch: int, ri: int, pos: Position | None) -> Iterator[tuple[int, int, int, int]]:
        c = self.corpus
        bucket = c.range_order(epoch)[ri]
        pivot = c.pivot(epoch, bucket)
        rows = []
        for shard in c.ranges.get(bucket, []):
            t = c.open(shard).read(columns=["key", "digest", "n_tokens"])
            rows.append(t)
        if not rows:
            return
        keys = np.concatenate([t["key"].to_numpy() for t in rows])
        digests = np.concatenate([t["digest"].to_numpy() for t in rows])
        sizes = np.concatenate([t["n_tokens"].to_numpy() for t in rows])
        order = np.argsort(_rank(keys, pivot), kind="stable")
        keys, digests, sizes = keys[order], digests[order], sizes[order]
        start, first_off = 0, 0
        if pos is not None:
            r = _rank(keys, pivot)
            start = int(np.searchsorted(r, np.uint64((pos.key - pivot) % _U64)))
            if start < len(keys) and int(keys[start]) == pos.key:
                if int(digests[start]) == pos.digest:
                    first_off = pos.offset
                else:
                    start += 1
        for i in range(start, len(keys)):
            yield int(keys[i]), int(digests[i]), int(sizes[i]), first_off if i == start else 0

    def state_dict(self) -> dict[str, Any]:
        return {"format": 2, "position": asdict(self.state_position()), "seq_len": self.seq_len,
                "world_size": self.world_size, "seed": self.corpus.seed, "buckets": self.corpus.buckets}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Go on from a state taken on this corpus or on another version of it (same seed; for an
        epoch after the first, the same bucket count), with any world size and sequence length."""
        if state.get("format") != 2:
            raise ValueError("a loader state from before key order; it cannot be resumed here")
        # The position is a token of the stream, the same for every rank: the run may go on with
        # another world size or sequence length (sequences are cut again from that token).
        if state["seed"] != self.corpus.seed:
            raise ValueError(f"state is for a corpus with seed {state['seed']}, this one has {self.corpus.seed}")
        pos = Position(**state["position"])
        if pos.epoch > 0 and state["buckets"] != self.corpus.buckets:
            raise ValueError(f"state is from a corpus with {state['buckets']} buckets, this one has "
                             f"{self.corpus.buckets}: set the tokenize stage's buckets to {state['buckets']}")
        self.start, self.consumed, self._locate_cache = pos, 0, None

    def torch_dataset(self) -> Any:
        """A ``torch.utils.data.IterableDataset`` over this loader (int64 tensors of seq_len).

        With DataLoader workers, each worker takes every k-th of this rank's sequences; the
        loader's state_dict is exact with ``num_workers=0``.
        """
        import torch

        loader = self

        class _Dataset(torch.utils.data.IterableDataset):
            def __iter__(self) -> Iterator[Any]:
                info = torch.utils.data.get_worker_info()
                for i, seq in enumerate(loader):
                    if info is None or i % info.num_workers == info.id:
                        yield torch.from_numpy(seq.astype(np.int64))

        return _Dataset()


class Mixture:
    """Several corpora interleaved by weight, deterministically, sequence by sequence.

    Global sequence ``j`` comes from the source chosen by smooth weighted round-robin (each source
    gains its weight, the richest gives one sequence and pays the total), so after any n
    sequences every source's share is within one sequence of its weight. Rank ``r`` keeps
    sequence ``r`` of each round of ``world_size``. A source that reaches the end of an epoch starts its next
    one. ``set_weights`` at a checkpoint applies from the next sequence on; ``state_dict`` holds
    every source's position, the weights and the round-robin credit.
    """

    def __init__(self, sources: dict[str, str], weights: dict[str, float], seq_len: int, rank: int = 0,
                 world_size: int = 1) -> None:
        if set(sources) != set(weights):
            raise ValueError("every source needs a weight")
        self.names = sorted(sources)
        self.loaders = {n: ShardLoader(sources[n], seq_len) for n in self.names}
        self.seq_len, self.rank, self.world_size = seq_len, rank, world_size
        self.set_weights(weights)
        self.seq = 0  # global sequences taken so far
        self._iters: dict[str, Iterator[np.ndarray]] = {}

    def set_weights(self, weights: dict[str, float]) -> None:
        if set(weights) != set(self.names) or any(w < 0 for w in weights.values()) or not sum(weights.values()):
            raise ValueError(f"weights for {self.names}, not negative, not all zero")
        total = float(sum(weights.values()))
        self.weights = {n: weights[n] / total for n in self.names}
        self.credit = dict.fromkeys(self.names, 0.0)

    def _pick(self) -> str:
        for n in self.names:
            self.credit[n] += self.weights[n]
        best = max(self.names, key=lambda n: (self.credit[n], -self.names.index(n)))
        self.credit[best] -= 1.0
        return best

    def _next_from(self, name: str) -> np.ndarray:
        while True:
            it = self._iters.get(name)
            if it is None:
                it = self._iters[name] = iter(self.loaders[name])
            try:
                return next(it)
            except StopIteration:  # the source's epoch is over: its next epoch begins
                self._iters.pop(name)
                if self.loaders[name].total_tokens < self.seq_len:
                    raise ValueError(f"source {name!r} holds fewer tokens than one sequence") from None

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:  # a round of world_size sequences at a time, so that every rank's state agrees
            mine = None
            for k in range(self.world_size):
                name = self._pick()
                seq = self._next_from(name)
                if k == self.rank:
                    mine, self.last_source = seq, name
            self.seq += self.world_size
            yield mine

    def state_dict(self) -> dict[str, Any]:
        return {"format": 1, "seq": self.seq, "weights": dict(self.weights), "credit": dict(self.credit),
                "sources": {n: self.loaders[n].state_dict() for n in self.names}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if set(state["sources"]) != set(self.names):
            raise ValueError(f"state has sources {sorted(state['sources'])}, this mixture {self.names}")
        self.seq = state["seq"]
        self.weights, self.credit = dict(state["weights"]), dict(state["credit"])
        for n in self.names:
            self.loaders[n].load_state_dict(state["sources"][n])
        self._iters = {}
