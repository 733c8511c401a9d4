"""Tokenize-and-write throughput against bare batch encoding, and loader throughput.

    python tests/bench/bench_tokenize.py [--docs 20000]

Text: real pages extracted from ../shared/data/html_extraction plus the Chinese FewCLUE
corpus, repeated to --docs documents. Ours: a tokenize stage (one worker) reading an ingest
stage's Parquet, tokenizing, scattering, shuffling, writing zstd shards and the manifest.
Bare: the faster of ``encode_ordinary_batch`` (one thread) and a loop of ``encode_ordinary``
(tiktoken) / ``encode_batch_fast`` (tokenizers), on the same texts already in memory. Prints tokens/s per core and ours/bare.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # one core for tokenizers' Rust thread pool

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import trafilatura  # noqa: E402

from cc_cleaner.pipeline.decode import decode_payload  # noqa: E402
from cc_cleaner.pipeline.engines import get_engine  # noqa: E402
from cc_cleaner.pipeline.job import parse_job  # noqa: E402
from cc_cleaner.pipeline.loader import ShardLoader  # noqa: E402
from cc_cleaner.pipeline.runner import run_job  # noqa: E402
from cc_cleaner.pipeline.tokenizer import TokenizerSpec, load_tokenizer  # noqa: E402

from conftest import SHARED  # noqa: E402


def texts(n: int) -> list[str]:
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    base = []
    for p in sorted((SHARED / "html_extraction" / "article_extraction_benchmark" / "html").glob("*.html.gz")):
        t = trafilatura.extract(decode_payload(gzip.decompress(p.read_bytes()))[0])
        if t:
            base.append(t)
    for line in gzip.decompress((SHARED / "multilingual_text" / "chinese_fewclue" / "csl_test_public.jsonl.gz")
                                .read_bytes()).decode().splitlines():
        base.append(json.loads(line)["abst"])
    return [f"{base[i % len(base)]}\n[{i}]" for i in range(n)]


def train_bpe(path: Path, sample: list[str]) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(sample, trainers.BpeTrainer(vocab_size=32000, special_tokens=["</s>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.save(str(path))


def bare(spec: TokenizerSpec, docs: list[str]) -> tuple[float, int]:
    """The library's own fastest one-thread call on the texts in memory: for tiktoken the faster
    of ``encode_ordinary_batch`` (one thread) and a loop of ``encode_ordinary``."""
    if spec.tiktoken:
        import tiktoken

        try:
            enc = tiktoken.get_encoding(f"{spec.tiktoken}_offline")
        except ValueError:
            enc = tiktoken.get_encoding(spec.tiktoken)
        calls = [lambda b: enc.encode_ordinary_batch(b, num_threads=1), lambda b: [enc.encode_ordinary(t) for t in b]]
    else:
        tok = load_tokenizer(spec)
        calls = [tok.encode_lists]
    best, n = float("inf"), 0
    for call in calls:
        t0 = time.perf_counter()
        n = sum(len(x) for i in range(0, len(docs), 1000) for x in call(docs[i:i + 1000]))
        best = min(best, time.perf_counter() - t0)
    return best, n


def ours(spec: dict, tmp: Path) -> tuple[float, int, str]:
    job = parse_job({"name": "bench", "seed": 1, "output": str(tmp / "out"),
                     "input": {"format": "parquet", "paths": [str(tmp / "docs.parquet")]},
                     "stages": [{"name": "ingest", "part_records": 5000, "steps": []},
                                {"name": "tokenize", "tokenizer": spec, "shard_tokens": 5_000_000}]}, str(tmp))
    engine = get_engine("local", 1)
    engine.run([0], abs)  # worker started before timing
    run_job(job.__class__(job.spec.model_copy(update={"stages": job.spec.stages[:1]}), job.base_dir), engine,
            progress=False)
    t0 = time.perf_counter()
    run_job(job, engine, progress=False)
    secs = time.perf_counter() - t0
    engine.close()
    m = json.loads((tmp / "out" / "tokenize" / "manifest.json").read_text())
    return secs, m["total_tokens"] - m["total_docs"], str(tmp / "out" / "tokenize" / "manifest.json")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=50000)
    args = ap.parse_args()
    docs = texts(args.docs)
    print(f"{len(docs)} documents, {sum(len(d.encode()) for d in docs) / 1e6:.1f} MB of text, one core")
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        pq.write_table(pa.table({"id": [str(i) for i in range(len(docs))], "text": docs}), tmp / "docs.parquet")
        train_bpe(tmp / "tokenizer.json", docs[:2000])
        for label, spec in [("tiktoken cl100k_base", {"tiktoken": "cl100k_base"}),
                            ("tokenizers BPE-32k (tokenizer.json)", {"hf": str(tmp / "tokenizer.json")})]:
            b_s, b_n = bare(TokenizerSpec(**spec), docs)
            o_s, o_n, manifest = ours(spec, tmp)
            assert o_n == b_n, (o_n, b_n)
            print(f"{label}: bare {b_n / b_s / 1e6:.2f} M tokens/s, cc-cleaner stage {o_n / o_s / 1e6:.2f} M tokens/s"
                  f" (tokenize + shuffle + write), ratio {b_s / o_s:.2f}")
            for ranks, label in ((1, "one rank"), (8, "rank 0 of 8: reads every token, keeps 1/8")):
                loader = ShardLoader(manifest, 2048, rank=0, world_size=ranks)
                t0 = time.perf_counter()
                n = sum(len(s) for s in loader) * ranks
                secs = time.perf_counter() - t0
                print(f"  loader: {n / secs / 1e6:.1f} M tokens/s of stream (seq_len 2048, {label})")
            half = ShardLoader(manifest, 2048)
            it = iter(half)
            for _ in range(n // 2048 // 2):
                next(it)
            t0 = time.perf_counter()
            half.state_dict()
            print(f"  state_dict half-way through the epoch: {1000 * (time.perf_counter() - t0):.0f} ms")
            import shutil

            shutil.rmtree(tmp / "out")


if __name__ == "__main__":
    main()
