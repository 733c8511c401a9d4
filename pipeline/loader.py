"""The trainer side: read a tokenize stage's manifest, pack documents into fixed-length sequences.

    loader = ShardLoader("OUT/tokenize/manifest.json", seq_len=2048, rank=r, world_size=w, seed=0)
    for seq in loader:            # numpy uint32 arrays of seq_len tokens
        ...
    state = loader.state_dict()   # resume exactly: ShardLoader(...).load_state_dict(state)

The packed stream is every shard's documents (EOS-terminated) concatenated, shards in an order
permuted by (seed, epoch), cut into ``seq_len`` tokens; sequence ``i`` belongs to rank
``i % world_size``. Ranks are disjoint and together cover the whole stream; the last partial
sequence is dropped unless ``pad_id`` is given. Resuming skips to the token offset through the
``n_tokens`` column alone, without reading token ids it does not need.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from typing import Any

import fsspec
import numpy as np
import pyarrow.parquet as pq


class ShardLoader:
    def __init__(self, manifest: str, seq_len: int, rank: int = 0, world_size: int = 1, seed: int = 0,
                 epoch: int = 0, pad_id: int | None = None) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world_size {world_size}")
        with fsspec.open(manifest, "rt", encoding="utf-8") as f:
            self.manifest = json.load(f)
        self.root = posixpath.dirname(manifest)
        self.seq_len, self.rank, self.world_size = seq_len, rank, world_size
        self.seed, self.pad_id = seed, pad_id
        self.epoch = epoch
        self.next_seq = rank  # global index of the next sequence this rank yields
        self._shards = self.manifest["shards"]

    # -- bookkeeping -----------------------------------------------------------------------

    def shard_order(self, epoch: int) -> list[dict[str, Any]]:
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self._shards))
        return [self._shards[i] for i in order]

    @property
    def total_tokens(self) -> int:
        return int(self.manifest["total_tokens"])

    def num_sequences(self) -> int:
        """Sequences in the whole stream (all ranks)."""
        full, rest = divmod(self.total_tokens, self.seq_len)
        return full + (1 if rest and self.pad_id is not None else 0)

    def __len__(self) -> int:
        n = self.num_sequences()
        return max(0, (n - self.rank + self.world_size - 1) // self.world_size)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "next_seq": self.next_seq, "rank": self.rank, "world_size": self.world_size,
                "seq_len": self.seq_len, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        for k in ("rank", "world_size", "seq_len", "seed"):
            if state[k] != getattr(self, k):
                raise ValueError(f"state was saved with {k}={state[k]}, this loader has {getattr(self, k)}")
        self.epoch, self.next_seq = state["epoch"], state["next_seq"]

    # -- reading ---------------------------------------------------------------------------

    def _open(self, shard: dict[str, Any]) -> pq.ParquetFile:
        f = fsspec.open(posixpath.join(self.root, shard["file"]), "rb").open()
        return pq.ParquetFile(f)

    def _token_stream(self, epoch: int, start_token: int) -> Iterator[np.ndarray]:
        """Token ids of the packed stream from ``start_token`` on, in chunks."""
        pos = 0
        for shard in self.shard_order(epoch):
            if pos + shard["tokens"] <= start_token:
                pos += shard["tokens"]
                continue
            pf = self._open(shard)
            for rg in range(pf.num_row_groups):
                n = pf.read_row_group(rg, columns=["n_tokens"])["n_tokens"].to_numpy()
                rg_tokens = int(n.sum())
                if pos + rg_tokens <= start_token:
                    pos += rg_tokens
                    continue
                ids = pf.read_row_group(rg, columns=["input_ids"])["input_ids"].combine_chunks()
                flat = ids.values.to_numpy()
                skip = max(0, start_token - pos)
                pos += rg_tokens
                yield flat[skip:]

    def __iter__(self) -> Iterator[np.ndarray]:
        L, W = self.seq_len, self.world_size
        total = self.num_sequences()
        seq = self.next_seq
        if seq < total:
            buf = np.empty(0, dtype=np.uint32)
            buf_start = seq * L  # global token offset of buf[0]
            for chunk in self._token_stream(self.epoch, buf_start):
                buf = np.concatenate([buf, chunk]) if len(buf) else chunk
                while seq < total and buf_start + len(buf) >= (seq + 1) * L:
                    a = seq * L - buf_start
                    out = buf[a:a + L]
                    seq += W
                    self.next_seq = seq
                    yield out
                # Keep only tokens from this rank's next sequence on.
                cut = min(len(buf), max(0, seq * L - buf_start))
                buf, buf_start = buf[cut:], buf_start + cut
                if seq >= total:
                    break
            if seq < total and self.pad_id is not None and seq * L >= buf_start:  # final partial sequence
                rest = buf[seq * L - buf_start:]
                if len(rest):
                    out = np.full(L, self.pad_id, dtype=np.uint32)
                    out[:len(rest)] = rest
                    self.next_seq = seq + W
                    yield out
        self.epoch += 1
        self.next_seq = self.rank

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
