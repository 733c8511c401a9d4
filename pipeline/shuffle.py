"""File-based, hash-partitioned shuffles between the phases of a global stage.

A producer task writes one file per partition it has rows for, named after itself:
``<stage>/_shuffle/<name>/pNNNNN/<producer>.parquet`` (``pipeline.layout``). A consumer task reads every file of its
partition in name order, so the result does not depend on which engine or worker wrote what.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cc_cleaner.pipeline.layout import shuffle_dir
from cc_cleaner.pipeline.store import Store


def scatter(store: Store, stage: str, name: str, producer: str, table: pa.Table, keys: np.ndarray,
            partitions: int) -> None:
    """Write ``table``'s rows to partition ``keys % partitions`` (keys: uint64 hashes)."""
    part = (keys % np.uint64(partitions)).astype(np.int64)
    order = np.argsort(part, kind="stable")
    part_sorted = part[order]
    table = table.take(pa.array(order))
    bounds = np.flatnonzero(np.diff(part_sorted)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(part_sorted)]))
    for s, e in zip(starts, ends, strict=True):
        if e > s:
            store.write_table(f"{shuffle_dir(stage, name, int(part_sorted[s]))}/{producer}.parquet",
                              table.slice(int(s), int(e - s)), fast=True)


def gather(store: Store, stage: str, name: str, part: int, schema: pa.Schema | None = None) -> pa.Table:
    files = store.list(shuffle_dir(stage, name, part), ".parquet")
    tables = [store.read_table(rel) for rel in files]
    if not tables:
        return schema.empty_table() if schema is not None else pa.table({})
    return pa.concat_tables(tables, promote_options="default").combine_chunks()
