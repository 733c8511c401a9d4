"""File-based, hash-partitioned shuffles between the phases of a global stage.

A producer task writes one file per partition it has rows for, named after itself:
``<stage>/_shuffle/<name>/pNNNNN/<producer>.arrow`` (``pipeline.layout``), an Arrow IPC file
(``Store.write_arrow``). A consumer task reads every file of its partition in name order, so the
result does not depend on which engine or worker wrote what.
"""

from __future__ import annotations

import posixpath

import numpy as np
import pyarrow as pa

from cc_cleaner.pipeline.layout import shuffle_dir
from cc_cleaner.pipeline.store import Store


def scatter(store: Store, stage: str, name: str, producer: str, table: pa.Table, keys: np.ndarray,
            partitions: int) -> None:
    """Write ``table``'s rows to partition ``keys % partitions`` (keys: uint64 hashes), each
    partition's rows in their order in ``table``."""
    part = (keys % np.uint64(partitions)).astype(np.int64)
    if len(part) > 1 and not np.all(part[1:] >= part[:-1]):
        order = np.argsort(part, kind="stable")
        part = part[order]
        table = table.take(pa.array(order))
    bounds = np.flatnonzero(np.diff(part)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(part)]))
    for s, e in zip(starts, ends, strict=True):
        if e > s:
            store.write_arrow(f"{shuffle_dir(stage, name, int(part[s]))}/{producer}.arrow",
                              table.slice(int(s), int(e - s)))


def gather(store: Store, stage: str, name: str, part: int, schema: pa.Schema | None = None) -> pa.Table:
    folder = shuffle_dir(stage, name, part)
    # A stage begun by a version that wrote Parquet shuffle files resumes: a producer's newer
    # .arrow file, written when its task ran again, stands in for its .parquet one.
    files: dict[str, str] = {}
    for rel in store.list(folder):
        stem, ext = posixpath.splitext(posixpath.basename(rel))
        if ext == ".arrow" or (ext == ".parquet" and stem not in files):
            files[stem] = rel
    tables = [store.read_arrow(rel) if rel.endswith(".arrow") else store.read_table(rel)
              for rel in sorted(files.values())]
    if not tables:
        return schema.empty_table() if schema is not None else pa.table({})
    return pa.concat_tables(tables, promote_options="default").combine_chunks()
