"""Tokenize-and-write throughput against bare batch encoding, and loader throughput.

    python tests/bench/bench_tokenize.py [--docs 20000] [--rounds 3]

Text: real pages extracted from ../shared/data/html_extraction plus the Chinese FewCLUE
corpus, repeated to --docs documents. Ours: a tokenize stage (one worker) reading an ingest
stage's Parquet, tokenizing, scattering, shuffling, writing zstd shards and the manifest.
Bare: the fastest of ``encode_ordinary_batch`` (one thread), a loop of ``encode_ordinary`` and
a loop of ``encode_to_numpy`` (tiktoken) / ``encode_batch_fast`` (tokenizers), on the same texts
already in memory. Prints tokens/s per core and ours/bare, and the two floors no stage writing
these shards from this input can pass: the shard write and the input read.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
from cc_cleaner.pipeline.tokenize_stage import shard_bytes  # noqa: E402
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


def bare_call(spec: TokenizerSpec, docs: list[str]) -> Callable[[list[str]], list]:
    """The library's own fastest one-thread call on the texts in memory: for tiktoken the fastest
    of ``encode_ordinary_batch`` (one thread), a loop of ``encode_ordinary`` and one of
    ``encode_to_numpy`` (the stage's own call), each timed once on the texts."""
    if not spec.tiktoken:
        return load_tokenizer(spec).encode_lists
    import tiktoken

    try:
        enc = tiktoken.get_encoding(f"{spec.tiktoken}_offline")
    except ValueError:
        enc = tiktoken.get_encoding(spec.tiktoken)
    calls = [lambda b: enc.encode_ordinary_batch(b, num_threads=1), lambda b: [enc.encode_ordinary(t) for t in b],
             lambda b: [enc.encode_to_numpy(t, disallowed_special=()) for t in b]]
    return min(calls, key=lambda call: bare(call, docs)[0])


def bare(call: Callable[[list[str]], list], docs: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = sum(len(x) for i in range(0, len(docs), 1000) for x in call(docs[i:i + 1000]))
    return time.perf_counter() - t0, n


def ours(spec: dict, tmp: Path, engine: Any) -> tuple[float, int, str]:
    job = parse_job({"name": "bench", "seed": 1, "output": str(tmp / "out"),
                     "input": {"format": "parquet", "paths": [str(tmp / "docs.parquet")]},
                     "stages": [{"name": "ingest", "part_records": 5000, "steps": []},
                                {"name": "tokenize", "tokenizer": spec, "shard_tokens": 5_000_000}]}, str(tmp))
    run_job(job.__class__(job.spec.model_copy(update={"stages": job.spec.stages[:1]}), job.base_dir), engine,
            progress=False)
    t0 = time.perf_counter()
    run_job(job, engine, progress=False)
    secs = time.perf_counter() - t0
    m = json.loads((tmp / "out" / "tokenize" / "manifest.json").read_text())
    return secs, m["total_tokens"] - m["total_docs"], str(tmp / "out" / "tokenize" / "manifest.json")


def shard_write_seconds(manifest: str) -> float:
    """The time to serialize the stage's own shards again, from memory: a floor on any writer."""
    folder = Path(manifest).parent
    tables = [pq.read_table(folder / s["file"]) for s in json.loads(Path(manifest).read_text())["shards"]]
    t0 = time.perf_counter()
    for t in tables:
        shard_bytes(t, 1_000_000)
    return time.perf_counter() - t0


def input_read_seconds(folder: Path) -> float:
    """The time to read the stage's input as the stage does (the upstream Parquet parts' columns,
    then the texts as Python strings for the tokenizer): the other floor, besides the write."""
    t0 = time.perf_counter()
    for path in sorted(folder.glob("*.parquet")):
        names = pq.ParquetFile(path).schema_arrow.names
        pq.read_table(path, columns=[c for c in ("id", "source", "text", "lang", "license") if c in names])[
            "text"].to_pylist()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=50000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    docs = texts(args.docs)
    print(f"{len(docs)} documents, {sum(len(d.encode()) for d in docs) / 1e6:.1f} MB of text, one core")
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        pq.write_table(pa.table({"id": [str(i) for i in range(len(docs))], "text": docs}), tmp / "docs.parquet")
        train_bpe(tmp / "tokenizer.json", docs[:2000])
        for label, spec in [("tiktoken cl100k_base", {"tiktoken": "cl100k_base"}),
                            ("tokenizers BPE-32k (tokenizer.json)", {"hf": str(tmp / "tokenizer.json")})]:
            call = bare_call(TokenizerSpec(**spec), docs)
            engine = get_engine("local", 1)
            engine.run([0], abs)  # worker process started before timing
            b_times, o_times = [], []
            # Alternating, the best of each: the machine's speed drifts. The first round's worker
            # also imports the stage and loads the tokenizer, once per worker in a real job.
            for r in range(args.rounds + 1):
                if r:
                    shutil.rmtree(tmp / "out")
                b_s, b_n = bare(call, docs)
                o_s, o_n, manifest = ours(spec, tmp, engine)
                assert o_n == b_n, (o_n, b_n)
                b_times.append(b_s)
                o_times.append(o_s)
            engine.close()
            b_s, o_s = min(b_times[1:]), min(o_times[1:])
            rounds = ", ".join(f"{b / o:.2f}" for b, o in zip(b_times[1:], o_times[1:], strict=True))
            print(f"{label}: bare {b_n / b_s / 1e6:.2f} M tokens/s, cc-cleaner stage {o_n / o_s / 1e6:.2f} M tokens/s"
                  f" (tokenize + shuffle + write), ratio {b_s / o_s:.2f} (best of {args.rounds} alternating runs"
                  f" on a warm worker; per round: {rounds}); the first run, with the worker's one-off imports"
                  f" and tokenizer load: {b_times[0] / o_times[0]:.2f}")
            w_s = shard_write_seconds(manifest)
            print(f"  writing the shard files alone (zstd Parquet, from memory) takes {w_s / b_s:.0%} of bare encoding:"
                  f" bare encoding + that write would be {b_s / (b_s + w_s):.2f}x bare")
            r_s = min(input_read_seconds(tmp / "out" / "ingest" / "data") for _ in range(3))
            print(f"  reading the input (Parquet, then Python strings) takes {r_s / b_s:.0%}: bare encoding + read +"
                  f" write, with no shuffle and nothing else, would be {b_s / (b_s + r_s + w_s):.2f}x bare")
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
            shutil.rmtree(tmp / "out")


if __name__ == "__main__":
    main()
