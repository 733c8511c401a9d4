"""Connected components of 10 million synthetic edges in 64 partitions: peak RSS per task.

    python tests/bench/bench_components.py [--edges 10000000] [--partitions 64] [--workers 2]

The graph mixes what dedup meets: 150,000-node chains in random order, a star of 1e6, many
small random clusters (a few edges each) and pairs. Every task of the stage's component phases
runs in a fresh process (forked from a small server process, one task each) that reports its own
peak RSS (VmHWM); the clusters are
checked against the single-task computation (scipy on the whole graph). Prints rounds, wall time,
the peak RSS of the largest task per phase, and the fresh process's own RSS before any work.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def graph(n_edges: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    parts_a, parts_b = [], []
    base = 0
    for _ in range(2):  # chains
        c = base + rng.permutation(150_000)
        parts_a.append(c[:-1]), parts_b.append(c[1:])
        base += 150_000
    star = 1_000_000
    parts_a.append(np.full(star, base + star)), parts_b.append(base + np.arange(star))
    base += star + 1
    used = sum(len(a) for a in parts_a)
    pairs = (n_edges - used) // 2  # half the rest as pairs, half as random clusters of ~8 nodes
    parts_a.append(base + 2 * np.arange(pairs)), parts_b.append(base + 2 * np.arange(pairs) + 1)
    base += 2 * pairs
    rest = n_edges - used - pairs
    clusters = rest // 8
    c = rng.integers(0, clusters, rest)
    parts_a.append(base + c * 8 + rng.integers(0, 8, rest)), parts_b.append(base + c * 8 + rng.integers(0, 8, rest))
    a, b = np.concatenate(parts_a), np.concatenate(parts_b)
    keep = a != b
    return a[keep], b[keep]


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM: unlike ru_maxrss it does not carry a parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_task(task) -> tuple[str, float, float]:
    t0 = time.perf_counter()
    task.run()
    return task.phase, peak_rss_mb(), time.perf_counter() - t0


def baseline(_: int) -> float:
    from cc_cleaner.dedup import docs  # noqa: F401  (what a task process imports)
    return peak_rss_mb()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--partitions", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--bound-mb", type=int, default=1024)  # the star of 1e6 is one cluster in one task
    args = ap.parse_args()

    import pyarrow as pa
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from cc_cleaner.dedup import components as cc
    from cc_cleaner.dedup.docs import EDGE, DedupDocsSpec, DedupTask
    from cc_cleaner.pipeline.shuffle import gather, scatter
    from cc_cleaner.pipeline.store import Store

    a, b = graph(args.edges, np.random.default_rng(1))
    print(f"{len(a):,} edges over {len(np.unique(np.concatenate([a, b]))):,} documents, {args.partitions} partitions")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        homes = 64
        t0 = time.perf_counter()
        for i in range(0, len(a), 500_000):  # as the verify tasks write them: many producers
            x, y = a[i: i + 500_000], b[i: i + 500_000]
            hx, hy = (x % homes).astype(np.int32), (y % homes).astype(np.int32)
            nx, ny = (hx.astype(np.int64) << 32) + x, (hy.astype(np.int64) << 32) + y
            t = pa.table([pa.array(x.astype(str)), pa.array(y.astype(str)), hx, hy, (x * 7) % 13, (y * 7) % 13,
                          x.astype(np.uint64), y.astype(np.uint64), np.full(len(x), "minhash"), nx, ny], schema=EDGE)
            scatter(store, "s", "edges", f"v{i // 500_000:05d}", t, cc.edge_keys(t), args.partitions)
        print(f"edges written in {time.perf_counter() - t0:.0f} s")
        spec = DedupDocsSpec(name="s", partitions=args.partitions)
        home_ids = tuple(f"h{i}" for i in range(homes))

        def tasks(phase: str, n: int, rnd: int = 0):
            return lambda: [DedupTask(tmp, "s", phase, i, spec, 0, home_ids, (), False, rnd) for i in range(n)]

        ctx = mp.get_context("forkserver")  # each task in a fresh child of a small server process
        ctx.set_forkserver_preload(["cc_cleaner.dedup.docs"])  # which has imported what a task needs
        peak: dict[str, float] = defaultdict(float)
        t0 = time.perf_counter()
        with ctx.Pool(args.workers, maxtasksperchild=1) as pool:
            base = max(pool.map(baseline, range(args.workers)))
            for _, planner in cc.phases(store, "s", args.partitions, tasks):
                for phase, rss, _ in pool.imap_unordered(run_task, planner()):
                    kind = "star" if phase.startswith("star") else phase
                    peak[kind] = max(peak[kind], rss)
        wall = time.perf_counter() - t0
        summary = __import__("json").loads(store.read_text("s/clusters.json"))
        print(f"components: {summary['component_rounds']} star rounds, {wall:.0f} s with {args.workers} workers")
        print(f"fresh task process before any work: {base:.0f} MB")
        for k, v in peak.items():
            print(f"  peak RSS of a {k:8s} task: {v:6.0f} MB")
        print(f"largest task peak {max(peak.values()):.0f} MB, bound {args.bound_mb} MB: "
              f"{'within' if max(peak.values()) <= args.bound_mb else 'OVER'}")
        # Check against the single-task clusters.
        dec = pa.concat_tables([gather(store, "s", "decisions", h, cc.DECISION) for h in range(homes)])
        doc = np.array(dec["doc_id"].to_pylist(), dtype=np.int64)
        clus = np.array(dec["cluster"].to_pylist(), dtype=np.int64)
        nodes, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
        g = coo_matrix((np.ones(len(a), np.int8), (inv[: len(a)], inv[len(a):])), shape=(len(nodes),) * 2)
        label = connected_components(g, directed=False)[1]
        order = np.argsort(doc)
        assert np.array_equal(doc[order], nodes), "not every clustered document has a decision"
        lab_of_cluster = dict(zip(clus[order], label, strict=True))
        same = all(lab_of_cluster[c] == lab for c, lab in zip(clus[order], label, strict=True))
        same &= len(set(clus.tolist())) == label.max() + 1
        print(f"clusters equal the single-task result: {same} ({label.max() + 1:,} clusters)")


if __name__ == "__main__":
    main()
