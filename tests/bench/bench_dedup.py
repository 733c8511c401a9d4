"""MinHash dedup benchmark: signatures/s per core and end-to-end dedup, against datasketch.

    python tests/bench/bench_dedup.py [--docs 50000]

Documents: real text (Chinese FewCLUE lines and extracted article/WCXB pages, ../shared/data)
cycled to --docs, with every 10th document followed by a lightly edited copy (known
near-duplicates). Ours: shingles + signatures (word 5-grams, 128 permutations, one core), then the
whole dedup stage as a job on one worker. datasketch: MinHash.update_batch on the same shingles
and MinHashLSH(threshold=0.8) insert + query. Recall is measured on pairs whose exact Jaccard is
at least 0.8; peak memory is the max RSS of the process that did the work.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from cc_cleaner.dedup.minhash import Permutations, jaccard, shingle_hashes, signature  # noqa: E402
from cc_cleaner.pipeline.engines import get_engine  # noqa: E402
from cc_cleaner.pipeline.job import parse_job  # noqa: E402
from cc_cleaner.pipeline.runner import run_job  # noqa: E402
from cc_cleaner.pipeline.text import tokens  # noqa: E402

from conftest import SHARED  # noqa: E402


def corpus(n: int) -> tuple[dict[str, str], list[tuple[str, str]]]:
    base = [json.loads(v)["abst"] for v in gzip.decompress(
        (SHARED / "multilingual_text" / "chinese_fewclue" / "csl_test_public.jsonl.gz").read_bytes()).decode().splitlines()]
    gt = json.loads((SHARED / "html_extraction" / "article_extraction_benchmark" / "ground-truth.json").read_text())
    base += [v["articleBody"] for v in gt.values()]
    for p in sorted((SHARED / "html_extraction" / "wcxb_test" / "ground-truth").glob("*.json")):
        mc = json.loads(p.read_text())["ground_truth"].get("main_content")
        if mc:
            base.append(mc)
    rng = random.Random(0)
    docs, pairs = {}, []
    i = 0
    while len(docs) < n:
        text = base[i % len(base)] + f" [{i}]"  # unique tail: cycled texts are not exact copies
        docs[f"d{i}"] = text
        if i % 10 == 0:
            ws = text.split(" ")
            for _ in range(max(1, len(ws) // 100)):
                ws[rng.randrange(len(ws))] = "edited"
            docs[f"d{i}-copy"] = " ".join(ws)
            pairs.append((f"d{i}", f"d{i}-copy"))
        i += 1
    return docs, pairs


def python_shingles(text: str, n: int = 5) -> list[bytes]:
    ws = tokens(text)
    return [" ".join(ws[i:i + n]).encode() for i in range(max(1, len(ws) - n + 1))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=50000)
    args = ap.parse_args()
    docs, pairs = corpus(args.docs)
    texts = list(docs.values())
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(docs)} documents ({mb:.1f} MB), {len(pairs)} injected near-duplicate pairs, one core")

    perms = Permutations.make(128, 1)
    t0 = time.perf_counter()
    for t in texts:
        signature(shingle_hashes(t, "word_5gram", unique=False), perms)
    ours = time.perf_counter() - t0

    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    sketches = {}
    for k, t in docs.items():
        m = MinHash(num_perm=128, seed=1)
        m.update_batch(python_shingles(t))
        sketches[k] = m
    theirs = time.perf_counter() - t0
    print(f"signatures: cc-cleaner {len(texts) / ours:8.0f} docs/s   datasketch {len(texts) / theirs:6.0f} docs/s"
          f"   speed-up {theirs / ours:.1f}x (shingling included in both)")

    truth = {p for p in pairs if jaccard(shingle_hashes(docs[p[0]], "word_5gram"),
                                         shingle_hashes(docs[p[1]], "word_5gram")) >= 0.8}
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    found_ds = set()
    for k, m in sketches.items():
        for other in lsh.query(m):
            found_ds.add(tuple(sorted((k, other))))
        lsh.insert(k, m)
    ds_lsh = time.perf_counter() - t0
    ds_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ds_recall = len({tuple(sorted(p)) for p in truth} & found_ds) / max(1, len(truth))
    print(f"datasketch end-to-end: {theirs + ds_lsh:.1f}s (signatures {theirs:.1f}s + LSH {ds_lsh:.1f}s), "
          f"peak RSS {ds_rss / 1024:.0f} MB (LSH index added {max(0, ds_rss - rss0) / 1024:.0f} MB), "
          f"recall at J>=0.8 {ds_recall:.3f}")

    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        pq.write_table(pa.table({"id": list(docs), "text": texts}), tmp / "docs.parquet")
        job = {"name": "bench", "seed": 1, "output": str(tmp / "out"),
               "input": {"format": "parquet", "paths": [str(tmp / "docs.parquet")]},
               "stages": [{"name": "ingest", "part_records": 10000, "steps": []},
                          {"name": "dedup", "partitions": 8, "minhash": {"threshold": 0.8, "shingle": "word_5gram"}}]}
        j = parse_job(job, str(tmp))
        engine = get_engine("local", 1)
        run_job(j.__class__(j.spec.model_copy(update={"stages": j.spec.stages[:1]}), j.base_dir), engine,
                progress=False)
        engine.close()
        engine = get_engine("local", 1)
        engine.run([0], abs)
        t0 = time.perf_counter()
        run_job(j, engine, progress=False)
        secs = time.perf_counter() - t0
        engine.close()
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        clusters: dict[str, list[str]] = {}
        for sub in ("data", "rejected"):
            for p in (tmp / "out" / "dedup" / sub).glob("*.parquet"):
                t = pq.read_table(p, columns=["id", "dup_cluster"])
                for d, c in zip(t["id"].to_pylist(), t["dup_cluster"].to_pylist(), strict=True):
                    if c:
                        clusters.setdefault(c, []).append(d)
        cl = {d: c for c, m in clusters.items() for d in m}
        recall = sum(1 for a, b in truth if cl.get(a) is not None and cl.get(a) == cl.get(b)) / max(1, len(truth))
        summary = json.loads((tmp / "out" / "dedup" / "clusters.json").read_text())
    print(f"cc-cleaner end-to-end (dedup stage, 1 worker, exact + MinHash + verification): {secs:.1f}s, "
          f"peak worker RSS {peak / 1024:.0f} MB, recall at J>=0.8 {recall:.3f}, clusters {summary['clusters']}, "
          f"candidates {summary['candidate_pairs']} -> verified {summary['verified_pairs']}")
    print(f"pairs with exact J>=0.8: {len(truth)}; np {np.__version__}")


if __name__ == "__main__":
    main()
