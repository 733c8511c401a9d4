"""Connected components as partitioned rounds (``dedup.components``) give the clusters the
single-task computation gives, on adversarial graphs (a long chain, a star of a million, many tiny
clusters) and on real near-duplicate pages."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import xxhash
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from test_dedup import edit, rows, run_stage

from cc_cleaner.dedup import components as cc
from cc_cleaner.dedup.docs import EDGE, DedupDocsSpec, DedupTask
from cc_cleaner.pipeline.shuffle import gather, scatter
from cc_cleaner.pipeline.store import Store

from conftest import shared_path

HOMES = 3


def single_task(edges: pa.Table, keep: str, seed: int, stage: str) -> pa.Table:
    """The reference: every edge in one task (as the stage did before its components were
    partitioned), labelled by scipy; the same keeper rule."""
    a, b = edges["a"].to_numpy(zero_copy_only=False), edges["b"].to_numpy(zero_copy_only=False)
    nodes, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    u, v = inv[: len(a)], inv[len(a):]
    attrs = {}
    for col in ("home", "len", "exact"):
        vals = np.concatenate([edges[f"a_{col}"].to_numpy(), edges[f"b_{col}"].to_numpy()])
        arr = np.zeros(len(nodes), dtype=vals.dtype)
        arr[inv] = vals
        attrs[col] = arr
    graph = coo_matrix((np.ones(len(u), np.int8), (u, v)), shape=(len(nodes), len(nodes)))
    label = connected_components(graph, directed=False)[1]
    if keep == "longest":
        score = np.lexsort((np.arange(len(nodes)), -attrs["len"]))
    else:
        pri = np.fromiter((xxhash.xxh3_64_intdigest(f"{seed}:{stage}:{n}".encode()) for n in nodes),
                          dtype=np.uint64, count=len(nodes))
        score = np.lexsort((np.arange(len(nodes)), pri))
    rank = np.empty(len(nodes), dtype=np.int64)
    rank[score] = np.arange(len(nodes))
    order = np.lexsort((rank, label))
    lab_sorted = label[order]
    starts = np.concatenate(([True], lab_sorted[1:] != lab_sorted[:-1]))
    keeper_pos = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    keeper = np.empty(len(nodes), dtype=np.int64)
    keeper[order] = order[keeper_pos]
    size = np.bincount(label, minlength=len(nodes))[label]
    is_keeper = keeper == np.arange(len(nodes))
    same_text = attrs["exact"] == attrs["exact"][keeper]
    reason = np.where(is_keeper, None, np.where(same_text, "exact_duplicate", "near_duplicate"))
    return pa.table({"doc_id": nodes, "home": attrs["home"], "cluster": nodes[keeper],
                     "cluster_size": size.astype(np.int32), "reason": reason})


def edge_table(a: np.ndarray, b: np.ndarray, exact_every: int = 5) -> pa.Table:
    """Edges between documents numbered ``a`` and ``b``: home = number % HOMES, lengths that tie
    often (so the id breaks ties), every ``exact_every``-th document shares one text."""
    def side(x: np.ndarray) -> dict[str, np.ndarray]:
        x = x.astype(np.int64)
        return {"id": np.char.add("d", x.astype(str)).astype(object), "home": (x % HOMES).astype(np.int32),
                "len": (x * 7919) % 13, "exact": np.where(x % exact_every == 0, 1, x + 2).astype(np.uint64),
                "node": ((x % HOMES) << 32) + x}
    sa, sb = side(a), side(b)
    return pa.table([sa["id"], sb["id"], sa["home"], sb["home"], sa["len"], sb["len"], sa["exact"], sb["exact"],
                     np.full(len(a), "minhash"), sa["node"], sb["node"]], schema=EDGE)


def partitioned(tmp: Path, edges: pa.Table, partitions: int, keep: str = "longest", seed: int = 0,
                examples: int = 5) -> tuple[pa.Table, dict]:
    """The stage's own component phases and tasks, run in order on ``edges``."""
    store = Store(str(tmp / f"cc-{partitions}-{keep}"))
    spec = DedupDocsSpec(name="s", partitions=partitions, keep=keep, examples=examples)
    homes = tuple(f"h{i}" for i in range(HOMES))
    for i, chunk in enumerate(edges.to_batches(max_chunksize=100_000)):  # several producers
        t = pa.Table.from_batches([chunk])
        scatter(store, "s", "edges", f"c{i:05d}", t, cc.edge_keys(t), partitions)

    def tasks(phase: str, n: int, rnd: int = 0):
        return lambda: [DedupTask(store.root, "s", phase, i, spec, seed, homes, (), False, rnd) for i in range(n)]

    for _, planner in cc.phases(store, "s", partitions, tasks):
        for task in planner():
            task.run()
    dec = pa.concat_tables([gather(store, "s", "decisions", h, cc.DECISION) for h in range(HOMES)])
    return dec, json.loads(store.read_text("s/clusters.json"))


def same_clusters(got: pa.Table, want: pa.Table) -> None:
    g = got.sort_by("doc_id").to_pydict()
    w = want.sort_by("doc_id").to_pydict()
    assert g["doc_id"] == w["doc_id"]
    for col in ("cluster", "cluster_size", "reason", "home"):
        assert g[col] == w[col], col


@pytest.mark.parametrize("keep", ["longest", "random"])
def test_small_graphs_and_partition_counts(tmp_path: Path, keep: str):
    rng = np.random.default_rng(3)
    a = rng.integers(0, 3000, 4000)
    b = rng.integers(0, 3000, 4000)
    e = edge_table(a[a != b], b[a != b])
    want = single_task(e, keep, 11, "s")
    for p in (1, 2, 7, 16):
        got, summary = partitioned(tmp_path, e, p, keep, 11)
        same_clusters(got, want)
        assert summary["documents_in_clusters"] == want.num_rows and summary["edges"] == e.num_rows
        sizes = np.bincount(want["cluster_size"].to_numpy())
        assert summary["clusters"] == sum(sizes[k] // k for k in range(1, len(sizes)))


def test_known_keepers_and_reasons(tmp_path: Path):
    # Two clusters: a chain 10-11-12-13, and 20-40-41 where d20 and d40 share one text.
    e = edge_table(np.array([10, 11, 12, 20, 40]), np.array([11, 12, 13, 40, 41]), exact_every=20)
    got = {r["doc_id"]: r for r in partitioned(tmp_path, e, 3)[0].to_pylist()}
    length = {d: (int(d[1:]) * 7919) % 13 for d in got}
    for members in (["d10", "d11", "d12", "d13"], ["d20", "d40", "d41"]):
        best = max(sorted(members), key=lambda d: length[d])  # longest, then the smallest id
        for d in members:
            assert got[d]["cluster"] == best and got[d]["cluster_size"] == len(members)
            same_text = {d, best} <= {"d20", "d40"}
            assert got[d]["reason"] == (None if d == best else "exact_duplicate" if same_text else "near_duplicate")


@pytest.mark.slow
def test_adversarial_graphs_equal_the_single_task_result(tmp_path: Path):
    rng = np.random.default_rng(0)
    n = 100_000  # a chain through the nodes in a random order, and one in falling order
    chain = rng.permutation(n)
    falling = np.arange(2 * n + 50_000, n, -1)
    star = 1_000_000  # a star of a million around the largest id
    leaves = np.arange(3_000_000, 3_000_000 + star)
    tiny = np.arange(5_000_000, 5_300_000)  # 150,000 clusters of two
    a = np.concatenate([chain[:-1], falling[:-1], np.full(star, 4_500_000), tiny[0::2]])
    b = np.concatenate([chain[1:], falling[1:], leaves, tiny[1::2]])
    e = edge_table(a, b)
    got, summary = partitioned(tmp_path, e, 8, examples=3)
    same_clusters(got, single_task(e, "longest", 0, "s"))
    assert summary["largest_clusters"][0]["size"] == star + 1
    assert summary["component_rounds"] <= 2 * int(np.log2(n)) + 4, summary["component_rounds"]


def test_real_pages_clusters_equal_the_single_task_result(tmp_path: Path):
    """The stage on injected near-duplicates of real articles: its clusters are the single-task
    computation's on the same edges."""
    root = shared_path("html_extraction", "article_extraction_benchmark")
    truth = json.loads((root / "ground-truth.json").read_text())
    base = {f"a{i}": v["articleBody"] for i, v in enumerate(truth.values()) if len(v["articleBody"].split()) > 80}
    rng = random.Random(5)
    docs = dict(base)
    for i, (k, v) in enumerate(sorted(base.items())):
        for j in range(i % 4):  # chains of edits of edits
            v = edit(v, 0.01, rng)
            docs[f"{k}-e{j}"] = v
    out = run_stage(tmp_path, docs, {"name": "dedup", "partitions": 5, "minhash": {"threshold": 0.8}})
    store = Store(str(out))
    edges = pa.concat_tables([gather(store, "dedup", "edges", p, EDGE) for p in range(5)])
    want = {r["doc_id"]: r for r in single_task(edges, "longest", 0, "dedup").to_pylist()}
    assert len(want) > 300
    got = {r["id"]: r for r in rows(out / "dedup" / "data") + rows(out / "dedup" / "rejected")}
    for d, w in want.items():
        assert (got[d]["dup_cluster"], got[d]["dup_cluster_size"], got[d].get("reason")) == \
            (w["cluster"], w["cluster_size"], w["reason"]), d
    assert sum(1 for r in got.values() if r["dup_cluster"]) == len(want)
