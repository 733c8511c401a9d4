"""Connected components of dedup's duplicate edges, as rounds of hash-partitioned tasks.

No task holds the whole graph: each holds one partition of it. The rounds alternate large-star
and small-star (Kiveris et al., 2014, "Connected Components in MapReduce and Beyond") over
directed edge files partitioned by source node; the graph converges to one star per component,
centred on the component's smallest node, in O(log^2 n) rounds (about log n in practice). Each
round's tasks also test whether their input already is such a set of stars, a local test (every
node has only larger neighbours, or exactly one neighbour and it is smaller); when every
partition says so, the rounds stop.

Phases (P partitions; node = upstream task << 32 | the document's row in that task):

- ``edges``: the verified edges -> directed edges both ways (round 0), node attributes by node.
- ``star1``, ``star2``, ...: large-star on odd rounds, small-star on even ones.
- ``labels``: a node's component is its smallest neighbour or itself; joined with the node's
  attributes and sent to the component's partition.
- ``clusters``: per component, the kept document (longest, ties by id; or a seeded random pick)
  and each other member's reason; decisions go to the documents' upstream tasks.
- ``summary``: the partitions' cluster statistics merged into ``<stage>/clusters.json``.

Memory per task: its partition's edges (16 bytes per directed edge) or members; one component's
members always share a partition, so the largest cluster bounds the ``clusters`` task.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import xxhash

from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.shuffle import gather, scatter
from cc_cleaner.pipeline.store import Store

MAX_ROUNDS = 200
DIRECTED = pa.schema([("src", pa.int64()), ("dst", pa.int64())])
NODE = pa.schema([("node", pa.int64()), ("doc_id", pa.string()), ("home", pa.int32()), ("length", pa.int64()),
                  ("exact", pa.uint64())])
MEMBER = pa.schema([("label", pa.int64())] + list(NODE))
DECISION = pa.schema([("doc_id", pa.string()), ("home", pa.int32()), ("cluster", pa.string()),
                      ("cluster_size", pa.int32()), ("reason", pa.string())])


def node_ids(home: int, first: int, n: int) -> np.ndarray:
    """Node ids of ``n`` documents of upstream task ``home`` from row ``first`` on: exact, unlike a hash."""
    return (np.int64(home) << np.int64(32)) | np.arange(first, first + n, dtype=np.int64)


def spread(x: np.ndarray) -> np.ndarray:
    """A well-mixed uint64 of each id (splitmix64's finaliser), so that ``% P`` balances partitions."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def edge_keys(edges: pa.Table) -> np.ndarray:
    """Where a verified edge goes for the ``edges`` phase: by both ends, so that the edges of one
    document with many duplicates spread over the partitions."""
    return spread(edges["a_node"].to_numpy()) ^ spread(edges["b_node"].to_numpy() + 1)


def _send_both_ways(store: Store, stage: str, name: str, producer: str, x: np.ndarray, y: np.ndarray,
                    partitions: int) -> None:
    src, dst = np.concatenate([x, y]), np.concatenate([y, x])
    scatter(store, stage, name, producer, pa.table([src, dst], schema=DIRECTED), spread(src), partitions)


def _note(store: Store, stage: str, name: str, part: int, info: dict[str, Any]) -> None:
    store.write_text(f"{layout.shuffle_dir(stage, name, 0)}/{part:05d}.json", json.dumps(info))


def _notes(store: Store, stage: str, name: str) -> list[dict[str, Any]]:
    return [json.loads(store.read_text(r)) for r in store.list(layout.shuffle_dir(stage, name, 0), ".json")]


def prepare(store: Store, stage: str, part: int, partitions: int, edges: pa.Table) -> None:
    """Phase ``edges``: one partition of the verified edges (``dedup.docs.EDGE`` rows)."""
    _note(store, stage, "edge_counts", part, {"edges": edges.num_rows})
    if not edges.num_rows:
        return
    a, b = edges["a_node"].to_numpy(), edges["b_node"].to_numpy()
    _send_both_ways(store, stage, "cc0", f"{part:05d}", a, b, partitions)
    side = {c: pa.concat_arrays([edges[f"a_{c}"].combine_chunks(), edges[f"b_{c}"].combine_chunks()])
            for c in ("node", "home", "len", "exact")}
    nodes = pa.table([side["node"], pa.concat_arrays([edges["a"].combine_chunks(), edges["b"].combine_chunks()]),
                      side["home"], side["len"], side["exact"]], schema=NODE)
    _, first = np.unique(side["node"].to_numpy(), return_index=True)
    nodes = nodes.take(pa.array(first))
    scatter(store, stage, "nodes", f"{part:05d}", nodes, spread(nodes["node"].to_numpy()), partitions)


def _grouped(store: Store, stage: str, name: str, part: int) -> tuple[np.ndarray, ...]:
    """A partition's directed edges without repeats, sorted by (src, dst), with per-source groups:
    (src, dst, sources, their first row, their edge count, their smallest neighbour)."""
    t = gather(store, stage, name, part, DIRECTED)
    src, dst = t["src"].to_numpy(), t["dst"].to_numpy()
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    if len(src):
        new = np.ones(len(src), bool)
        new[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        src, dst = src[new], dst[new]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]]) if len(src) else np.empty(0, np.int64)
    counts = np.diff(np.r_[starts, len(src)])
    least = np.minimum.reduceat(dst, starts) if len(src) else np.empty(0, np.int64)
    return src, dst, src[starts], starts, counts, least


def star_round(store: Store, stage: str, rnd: int, part: int, partitions: int) -> None:
    """Phase ``star<rnd>``: large-star when ``rnd`` is odd, small-star when even."""
    src, dst, u, _, counts, least = _grouped(store, stage, f"cc{rnd - 1}", part)
    m = np.minimum(least, u)  # the smallest of each node and its neighbours
    stars = bool(np.all((least > u) | (counts == 1)))
    _note(store, stage, f"round{rnd}", part, {"stars": stars, "edges": int(len(src)), "nodes": int(len(u))})
    m_row = np.repeat(m, counts)
    if rnd % 2:  # large-star: each larger neighbour v of u joins u's smallest
        sel = dst > src
        x, y = dst[sel], m_row[sel]
    else:  # small-star: u and each smaller neighbour join the smallest of them
        sel = dst < src
        moved = m < u
        x, y = np.concatenate([dst[sel], u[moved]]), np.concatenate([m_row[sel], m[moved]])
        keep = x != y
        x, y = x[keep], y[keep]
    if len(x):
        _send_both_ways(store, stage, f"cc{rnd}", f"{part:05d}", x, y, partitions)


def converged(store: Store, stage: str, rnd: int) -> bool:
    """Whether round ``rnd``'s input was one star per component (then its output is the same)."""
    return all(n["stars"] for n in _notes(store, stage, f"round{rnd}"))


def drop_round(store: Store, stage: str, rnd: int) -> None:
    """A round's edge files, once the round after it has read them all."""
    store.remove(layout.shuffle_dir(stage, f"cc{rnd}", 0).rsplit("/", 1)[0])


def label(store: Store, stage: str, rnd: int, part: int, partitions: int) -> None:
    """Phase ``labels``, on the converged round ``rnd``'s output."""
    _, _, u, _, _, least = _grouped(store, stage, f"cc{rnd}", part)
    comp = np.minimum(least, u)
    nodes = gather(store, stage, "nodes", part, NODE)
    ids, first = np.unique(nodes["node"].to_numpy(), return_index=True)
    if not np.array_equal(ids, u):  # every node keeps an edge in every round
        raise RuntimeError(f"components partition {part}: {len(ids)} nodes but {len(u)} in the edges")
    nodes = nodes.take(pa.array(first))
    members = pa.table([pa.array(comp)] + [c.combine_chunks() for c in nodes.columns], schema=MEMBER)
    if members.num_rows:
        scatter(store, stage, "members", f"{part:05d}", members, spread(comp), partitions)


def clusters(store: Store, stage: str, part: int, keep: str, seed: int, homes: int, examples: int) -> None:
    """Phase ``clusters``: one partition of the components (each whole in one partition)."""
    t = gather(store, stage, "members", part, MEMBER)
    ids = t["doc_id"].to_pylist()
    if keep == "longest":  # longest first, then the smallest id
        score = pa.array(-t["length"].to_numpy())
    else:
        score = pa.array(np.fromiter((xxhash.xxh3_64_intdigest(f"{seed}:{stage}:{d}".encode()) for d in ids),
                                     dtype=np.uint64, count=len(ids)))
    t = t.append_column("score", score).sort_by([("label", "ascending"), ("score", "ascending"),
                                                  ("doc_id", "ascending")])
    lab = t["label"].to_numpy()
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]]) if len(lab) else np.empty(0, np.int64)
    counts = np.diff(np.r_[starts, len(lab)])
    keeper = np.repeat(starts, counts)
    doc = t["doc_id"].to_numpy(zero_copy_only=False)
    exact = t["exact"].to_numpy()
    is_keeper = keeper == np.arange(len(lab))
    reason = np.where(is_keeper, None, np.where(exact == exact[keeper], "exact_duplicate", "near_duplicate"))
    dec = pa.table([doc, t["home"], doc[keeper], np.repeat(counts, counts).astype(np.int32), reason],
                   schema=DECISION)
    if dec.num_rows:
        scatter(store, stage, "decisions", f"k{part:05d}", dec, dec["home"].to_numpy().astype(np.uint64), homes)
    top = heapq.nsmallest(examples, range(len(starts)), key=lambda i: (-counts[i], doc[starts[i]]))
    largest = [{"kept": str(doc[starts[i]]), "size": int(counts[i]),
                "members": sorted(doc[starts[i]: starts[i] + counts[i]].tolist())[:50]} for i in top]
    _note(store, stage, "cluster_counts", part, {"sizes": dict(Counter(counts.tolist())), "docs": len(lab),
                                                 "largest": largest})


def summary(store: Store, stage: str, examples: int) -> dict[str, Any]:
    """Phase ``summary``: ``<stage>/clusters.json`` from the partitions' notes."""
    sizes: Counter[int] = Counter()
    largest: list[dict[str, Any]] = []
    docs = 0
    for n in _notes(store, stage, "cluster_counts"):
        sizes.update({int(k): v for k, v in n["sizes"].items()})
        largest += n["largest"]
        docs += n["docs"]
    largest.sort(key=lambda c: (-c["size"], c["kept"]))
    verified = _notes(store, stage, "verified")
    rounds = 0
    while store.exists(f"{layout.shuffle_dir(stage, f'round{rounds + 1}', 0)}"):
        rounds += 1
    out = {"clusters": sum(sizes.values()), "documents_in_clusters": docs,
           "cluster_size_histogram": {str(k): v for k, v in sorted(sizes.items())},
           "largest_clusters": largest[:examples],
           "candidate_pairs": sum(v["candidates"] for v in verified),
           "verified_pairs": sum(v["verified"] for v in verified),
           "edges": sum(n["edges"] for n in _notes(store, stage, "edge_counts")),
           "component_rounds": rounds}
    store.write_text(f"{stage}/clusters.json", json.dumps(out, indent=1))
    return out


def phases(store: Store, stage: str, partitions: int,
           tasks: Callable[[str, int, int], Callable[[], list[Any]]]) -> Iterator[tuple[str, Callable[[], list[Any]]]]:
    """The components phases, planned one round at a time (the runner asks for the next phase
    only once the one before it ran). ``tasks(phase, count, round)`` plans a phase's tasks."""
    yield "edges", tasks("edges", partitions, 0)
    rnd = 1
    while True:
        yield f"star{rnd}", tasks(f"star{rnd}", partitions, rnd)
        drop_round(store, stage, rnd - 1)  # every task of this round has read it
        if converged(store, stage, rnd):
            break
        if rnd == MAX_ROUNDS:
            raise RuntimeError(f"stage {stage!r}: connected components did not converge in {rnd} rounds")
        rnd += 1
    yield "labels", tasks("labels", partitions, rnd)
    yield "clusters", tasks("clusters", partitions, 0)
    yield "summary", tasks("summary", 1, 0)


def note_pairs(store: Store, stage: str, part: int, candidates: int, verified: int) -> None:
    """How many candidate pairs a partition had and how many it verified (for ``clusters.json``)."""
    _note(store, stage, "verified", part, {"candidates": candidates, "verified": verified})
