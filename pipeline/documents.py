"""What every document carries across stages.

Documents travel as ``pyarrow.Table`` batches with the columns ``id``, ``text``, ``url`` and
``source`` (the readers write them) plus the columns steps add (``lang``, ``quality_score``, ...).
``id`` is derived from the source record, never a position, so it survives every stage; a
dropped document also carries the ``step`` and ``reason`` that dropped it.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

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


def with_reason(table: pa.Table, step: str, reasons: pa.Array | list[str]) -> pa.Table:
    """Append the step name and a per-row reason to rows that a step dropped."""
    n = table.num_rows
    table = table.append_column(REJECT_FIELDS[0], pa.array([step] * n, pa.string()))
    return table.append_column(REJECT_FIELDS[1], pa.array(reasons, pa.string()))
