"""Tokenized shards: round trip, determinism, manifest, and the trainer loader."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import yaml

from cc_cleaner.pipeline.engines import get_engine
from cc_cleaner.pipeline.job import parse_job
from cc_cleaner.pipeline.loader import ShardLoader
from cc_cleaner.pipeline.runner import run_job
from cc_cleaner.pipeline.tokenizer import TokenizerSpec, load_tokenizer

from conftest import shared_path
from helpers import tree_digest

pytestmark = pytest.mark.slow


def corpus(tmp: Path) -> tuple[Path, dict[str, str]]:
    """Real English and Chinese documents as JSONL: Dolma CC text and FewCLUE abstracts."""
    docs = {}
    for p in sorted(shared_path("warc", "dolma_cc_text").glob("cc_en_head-*.jsonl.gz")):
        import gzip

        for line in gzip.decompress(p.read_bytes()).decode().splitlines():
            d = json.loads(line)
            docs[f"en-{d['id']}"] = d["text"]
    import gzip

    zh = shared_path("multilingual_text", "chinese_fewclue", "csl_test_public.jsonl.gz")
    for line in gzip.decompress(zh.read_bytes()).decode().splitlines()[:300]:
        d = json.loads(line)
        docs[f"zh-{d['id']}"] = d["abst"]
    docs["tricky"] = "Special-looking text <|endoftext|> stays text; emoji 🎉 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢."
    path = tmp / "docs.jsonl"
    path.write_text("".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in docs.items()))
    return path, docs


def run(tmp: Path, inp: Path, out: str, tokenizer: dict, workers: int = 2, **stage) -> Path:
    job = {"name": "tok", "seed": 11, "output": str(tmp / out), "input": {"format": "jsonl", "paths": [str(inp)]},
           "stages": [{"name": "ingest", "part_records": 100, "steps": []},
                      {"name": "tokenize", "tokenizer": tokenizer, "shard_tokens": 20_000, **stage}]}
    engine = get_engine("local", workers)
    try:
        run_job(parse_job(job, str(tmp)), engine, progress=False)
    finally:
        engine.close()
    return tmp / out


def decoded(out: Path, tokenizer: dict) -> dict[str, str]:
    tok = load_tokenizer(TokenizerSpec(**tokenizer))
    docs = {}
    for p in sorted((out / "tokenize" / "shards").glob("*.parquet")):
        t = pq.read_table(p)
        for doc_id, ids, n in zip(t["doc_id"].to_pylist(), t["input_ids"].to_pylist(), t["n_tokens"].to_pylist(),
                                  strict=True):
            assert ids[-1] == tok.eos_id and len(ids) == n and tok.eos_id not in ids[:-1]
            docs[doc_id] = tok.decode(ids[:-1])
    return docs


def test_tiktoken_round_trip_manifest_and_determinism(tmp_path: Path):
    inp, docs = corpus(tmp_path)
    tk = {"tiktoken": "cl100k_base"}
    out = run(tmp_path, inp, "a", tk)
    assert decoded(out, tk) == docs
    m = json.loads((out / "tokenize" / "manifest.json").read_text())
    assert m["total_docs"] == len(docs) and m["tokenizer"]["name"] == "tiktoken:cl100k_base"
    assert m["tokenizer"]["eos_id"] == 100257 and len(m["tokenizer"]["sha256"]) == 64 and m["seed"] == 11
    assert len(m["shards"]) >= 3 and m["buckets"] >= 3
    for s in m["shards"]:
        data = (out / "tokenize" / s["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == s["sha256"]
        t = pq.read_table(out / "tokenize" / s["file"])
        assert t.schema.field("input_ids").type.value_type.bit_width == 32 and t.num_rows == s["docs"]
        assert sum(t["n_tokens"].to_pylist()) == s["tokens"]
    assert sum(s["tokens"] for s in m["shards"]) == m["total_tokens"]
    # Shards are ranges of the key order (xxh64 of seed and id): not input order.
    from cc_cleaner.pipeline.tokenize_stage import doc_keys, key_range

    keys = np.concatenate([pq.read_table(out / "tokenize" / s["file"])["key"].to_numpy() for s in m["shards"]])
    ids = [i for s in m["shards"] for i in pq.read_table(out / "tokenize" / s["file"])["doc_id"].to_pylist()]
    assert np.array_equal(keys, doc_keys(ids, 11)) and np.all(np.diff(key_range(keys, m["buckets"]).astype(np.int64)) >= 0)
    for s in m["shards"]:
        k = pq.read_table(out / "tokenize" / s["file"])["key"].to_numpy()
        assert np.all(np.diff(k.astype(np.float64)) >= 0) and (int(k[0]), int(k[-1])) == (s["first_key"], s["last_key"])
    assert ids != sorted(ids, key=list(docs).index)
    # A plain Parquet dataset for other readers.
    assert ds.dataset(out / "tokenize" / "shards").to_table(columns=["n_tokens"]).num_rows == len(docs)
    # Same job, one worker instead of two: byte-identical shards and manifest.
    out_b = run(tmp_path, inp, "b", tk, workers=1)
    assert tree_digest(out, ("shards",)) == tree_digest(out_b, ("shards",))
    assert (out / "tokenize" / "manifest.json").read_bytes() == (out_b / "tokenize" / "manifest.json").read_bytes()
    # Resume after losing the shard phase midway: same bytes again.
    out_c = tmp_path / "c"
    shutil.copytree(out, out_c)
    (out_c / "_state" / "tokenize" / "_SUCCESS").unlink()
    lost = m["shards"][-1]["file"]  # shards/bNNNNN-KKKKK.parquet
    (out_c / "_state" / "tokenize" / "shards" / f"{lost.split('/')[1][:6]}.done").unlink()
    (out_c / "tokenize" / lost).unlink()
    (out_c / "tokenize" / "manifest.json").unlink()
    shutil.rmtree(out_c / "_state" / "tokenize" / "manifest")
    run(tmp_path, inp, "c", tk)
    assert tree_digest(out, ("shards",)) == tree_digest(out_c, ("shards",))


def train_hf_tokenizer(path: Path, texts: list[str]) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=2000, special_tokens=["</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    tok.save(str(path))


def test_hf_tokenizer_json_round_trip(tmp_path: Path):
    inp, docs = corpus(tmp_path)
    train_hf_tokenizer(tmp_path / "tokenizer.json", list(docs.values()))
    hf = {"hf": str(tmp_path / "tokenizer.json")}
    out = run(tmp_path, inp, "hf", hf)
    assert decoded(out, hf) == docs
    m = json.loads((out / "tokenize" / "manifest.json").read_text())
    assert m["tokenizer"]["name"] == "hf:tokenizer.json"
    assert m["tokenizer"]["sha256"] == hashlib.sha256((tmp_path / "tokenizer.json").read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("loader")
    inp, _ = corpus(tmp)
    out = run(tmp, inp, "out", {"tiktoken": "cl100k_base"})
    return str(out / "tokenize" / "manifest.json")


def stream(manifest: str) -> np.ndarray:
    """Epoch 0: every document in key order (the shards' own order), concatenated."""
    m = json.loads(Path(manifest).read_text())
    root = Path(manifest).parent
    return np.concatenate([np.concatenate(pq.read_table(root / s["file"])["input_ids"].to_numpy(
        zero_copy_only=False)) for s in m["shards"]]).astype(np.uint32)


def test_loader_ranks_disjoint_and_complete(manifest: str):
    L = 512
    full = stream(manifest)
    n = len(full) // L
    per_rank = [list(ShardLoader(manifest, L, rank=r, world_size=4)) for r in range(4)]
    assert sum(map(len, per_rank)) == n
    for i in range(n):
        assert np.array_equal(per_rank[i % 4][i // 4], full[i * L:(i + 1) * L])
    padded = list(ShardLoader(manifest, L, pad_id=0))
    assert len(padded) == n + 1 and np.array_equal(padded[-1][: len(full) - n * L], full[n * L:])


def test_loader_resume_mid_epoch_is_exact(manifest: str):
    for epoch in (0, 1):  # key order, then an epoch that visits ranges in another order
        a = ShardLoader(manifest, 256, rank=1, world_size=2, epoch=epoch)
        expected = list(ShardLoader(manifest, 256, rank=1, world_size=2, epoch=epoch))
        it = iter(a)
        head = [next(it) for _ in range(7)]
        state = json.loads(json.dumps(a.state_dict()))  # survives a checkpoint file
        other = ShardLoader(manifest, 256, rank=0, world_size=2, epoch=epoch)
        it0 = iter(other)
        for _ in range(7):
            next(it0)
        assert other.state_dict() == state  # every rank saves the same position
        b = ShardLoader(manifest, 256, rank=1, world_size=2)
        b.load_state_dict(state)
        tail = list(b)
        assert len(head) + len(tail) == len(expected)
        assert all(np.array_equal(x, y) for x, y in zip(head + tail, expected, strict=True))
        assert b.epoch == epoch + 1
    e0 = np.concatenate(list(ShardLoader(manifest, 256)))
    e1 = np.concatenate(list(ShardLoader(manifest, 256, epoch=1)))
    assert len(e0) == len(e1) and not np.array_equal(e0, e1)  # same documents, another order
    # Another world size from the same state: the three ranks share out exactly what is left.
    rest = [ShardLoader(manifest, 256, rank=r, world_size=3) for r in range(3)]
    for loader in rest:
        loader.load_state_dict(state)
    parts = [list(loader) for loader in rest]
    two = [ShardLoader(manifest, 256, rank=r, world_size=2) for r in range(2)]
    for loader in two:
        loader.load_state_dict(state)
    left = [list(loader) for loader in two]
    dealt3 = [parts[i % 3][i // 3] for i in range(sum(map(len, parts)))]
    dealt2 = [left[i % 2][i // 2] for i in range(sum(map(len, left)))]
    assert len(dealt3) == len(dealt2) and all(np.array_equal(a, b) for a, b in zip(dealt3, dealt2, strict=True))


def test_torch_iterable_dataset(manifest: str):
    torch = pytest.importorskip("torch", reason="torch is not installed (optional)")
    dset = ShardLoader(manifest, 128).torch_dataset()
    batches = list(torch.utils.data.DataLoader(dset, batch_size=4))
    assert batches[0].shape == (4, 128) and batches[0].dtype == torch.int64


def test_tiktoken_batches_are_encode_ordinary_ids_with_eos():
    tok = load_tokenizer(TokenizerSpec(tiktoken="cl100k_base"))
    texts = ["plain text", "", "looks special: <|endoftext|> <|fim_prefix|>", "中文和 emoji 🎉",
             "a lone surrogate \ud800 here", "  \n\n spaces  "]
    values, offsets = tok.encode_batch(texts)
    assert values.dtype == np.uint32 and offsets.tolist()[0] == 0 and len(offsets) == len(texts) + 1
    for i, t in enumerate(texts):
        assert values[offsets[i]:offsets[i + 1]].tolist() == tok.enc.encode_ordinary(t) + [tok.eos_id]
    assert tok.encode_batch([])[0].size == 0


def test_bad_tokenizer_spec_is_a_clear_error(tmp_path: Path):
    from cc_cleaner.pipeline.job import JobError

    job = {"name": "t", "output": "o", "input": {"format": "jsonl", "paths": ["x"]},
           "stages": [{"name": "a", "steps": []}, {"name": "t", "tokenizer": {"tiktoken": "x", "hf": "y"}}]}
    with pytest.raises(JobError, match="stages.1.tokenizer: exactly one of tiktoken or hf|give exactly one"):
        parse_job(job, str(tmp_path))
    job["stages"][1] = {"name": "t", "tokenizer": {"tiktoken": "cl100k_base"}, "shard_tokns": 5}
    with pytest.raises(JobError, match="stages.1.shard_tokns: Extra inputs"):
        parse_job(job, str(tmp_path))
    yaml.safe_dump(job)
