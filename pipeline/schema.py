"""The document schema shared by every stage.

Documents travel as ``pyarrow.Table`` batches. The core columns are always present;
steps add their own columns (``lang``, ``quality_score``, ...).
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

CORE_FIELDS = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("text", pa.string()),
    pa.field("url", pa.string()),
    pa.field("source", pa.string()),
]
CORE_COLUMNS = [f.name for f in CORE_FIELDS]

# Columns of the rejected/ output besides the document's own columns.
REJECT_FIELDS = [pa.field("step", pa.string()), pa.field("reason", pa.string())]


def make_doc_id(*parts: str) -> str:
    """A stable id from what identifies the source record (never a position in a batch).

    20 hex digits (80 bits): collisions stay negligible far beyond 10^10 documents.
    """
    h = hashlib.blake2b(digest_size=10)
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def empty_table(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def with_reason(table: pa.Table, step: str, reasons: pa.Array | list[str]) -> pa.Table:
    """Append the step name and a per-row reason to rows that a step dropped."""
    n = table.num_rows
    table = table.append_column(REJECT_FIELDS[0], pa.array([step] * n, pa.string()))
    return table.append_column(REJECT_FIELDS[1], pa.array(reasons, pa.string()))
