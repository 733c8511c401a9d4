"""Corpus versions a running training can switch to: a loader state taken on version 1 goes on
on version 2 (a stricter filter, one more input file) without repeating or skipping; mixtures."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from cc_cleaner.jobs.diff import diff
from cc_cleaner.pipeline.job import Job
from cc_cleaner.pipeline.loader import Mixture, Position, ShardLoader

from conftest import cli, shared_path
from helpers import tree_digest

pytestmark = pytest.mark.slow
SEQ, RANKS = 128, 4


def write_inputs(tmp: Path) -> None:
    truth = json.loads((shared_path("html_extraction", "article_extraction_benchmark") / "ground-truth.json")
                       .read_text())
    docs = [{"id": f"a-{k}", "text": v["articleBody"]} for k, v in sorted(truth.items()) if v.get("articleBody")]
    (tmp / "in-0.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs[:120]))
    (tmp / "in-1.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs[120:]))
    zh = shared_path("multilingual_text", "chinese_fewclue", "csl_test_public.jsonl.gz")
    extra = [{"id": f"zh-{json.loads(ln)['id']}", "text": json.loads(ln)["abst"]}
             for ln in gzip.decompress(zh.read_bytes()).decode().splitlines()[:150]]
    (tmp / "extra.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in extra))


def version(tmp: Path, name: str, min_words: int, extra: bool, workers: int = 2) -> Path:
    version_job(tmp, name, min_words, extra).run(workers=workers)
    return tmp / name


def version_job(tmp: Path, name: str, min_words: int, extra: bool) -> Job:
    """The corpus job: version 1, or version 2 with a stricter filter and one more input file."""
    paths = [str(tmp / "in-*.jsonl")] + ([str(tmp / "extra.jsonl")] if extra else [])
    job = {"name": "corpus", "seed": 9, "output": str(tmp / name), "input": {"format": "jsonl", "paths": paths},
           "stages": [{"name": "clean", "part_records": 40,
                       "steps": [{"gopher_quality": {"min_words": min_words, "overrides": {"zh": {"min_words": 50}}}}]},
                      {"name": "tokenize", "tokenizer": {"tiktoken": "cl100k_base"}, "shard_tokens": 15_000,
                       "buckets": 4, "row_group_tokens": 3_000}]}
    return Job.from_dict(job, base_dir=str(tmp))


def spans(loader: ShardLoader, n: int | None) -> tuple[list[tuple[str, int, int]], list[np.ndarray]]:
    """(doc id, token from, token to) of what ``n`` sequences (or all) held, and the sequences."""
    seen, seqs = [], []
    for i, seq in enumerate(loader):
        seen += [(d, a, b) for d, a, b in loader.last_docs]
        seqs.append(seq)
        if n is not None and i + 1 == n:
            break
    return seen, seqs


def doc_table(out: Path) -> dict[str, tuple[int, int, int]]:
    """doc id -> (key, digest, n_tokens) of an output's shards."""
    rows = {}
    for p in sorted((out / "tokenize" / "shards").glob("*.parquet")):
        t = pq.read_table(p, columns=["doc_id", "key", "digest", "n_tokens"])
        for d, k, g, n in zip(*(t[c].to_pylist() for c in t.column_names), strict=True):
            rows[d] = (k, g, n)
    return rows


def test_switch_to_a_new_version_mid_epoch_without_repeats_or_gaps(tmp_path: Path):
    write_inputs(tmp_path)
    v1 = version(tmp_path, "v1", min_words=50, extra=False)
    v2 = version(tmp_path, "v2", min_words=250, extra=True)
    m1, m2 = (str(v / "tokenize" / "manifest.json") for v in (v1, v2))
    docs1, docs2 = doc_table(v1), doc_table(v2)
    assert set(docs2) - set(docs1) and set(docs1) - set(docs2)  # documents added and removed

    # Version 1, four ranks, a while; every rank saves the same state.
    before, states = defaultdict(list), []
    for r in range(RANKS):
        loader = ShardLoader(m1, SEQ, rank=r, world_size=RANKS, with_doc_ids=True)
        seen, _ = spans(loader, 60)
        before[r] = seen
        states.append(json.loads(json.dumps(loader.state_dict())))
    assert all(s == states[0] for s in states)
    state = states[0]
    pos = Position(**state["position"])

    # Version 2 from that state, to the end (the last partial sequence padded, so nothing is cut).
    after = {}
    for r in range(RANKS):
        loader = ShardLoader(m2, SEQ, rank=r, world_size=RANKS, with_doc_ids=True, pad_id=0)
        loader.load_state_dict(state)
        after[r], _ = spans(loader, None)

    # No token of any document seen twice, over every rank and both versions; every document
    # that was read is read whole (the one cut at the switch: in two pieces that meet).
    tokens: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for part in (before, after):
        for r in range(RANKS):
            for d, a, b in part[r]:
                tokens[d].append((a, b))
    k0 = pos.key
    for d, parts in tokens.items():
        parts.sort()
        n = (docs2 if d in docs2 else docs1)[d][2]
        contiguous = all(p[1] == q[0] for p, q in zip(parts, parts[1:], strict=False))
        assert contiguous and parts[0][0] == 0, (d, parts)  # disjoint, no gap, from the first token
        switched = docs1.get(d, (None,))[0] == k0 and (d not in docs2 or docs2[d][1] != docs1[d][1])
        assert parts[-1][1] == n or switched, (d, parts, n)  # to the last (but a doc changed at the switch)
    seen_before = {d for r in range(RANKS) for d, _, _ in before[r]}
    seen_after = {d for r in range(RANKS) for d, _, _ in after[r]}
    # The hand-over point in key order (epoch 0): v2's documents from it on, the partial one
    # included when its tokens are unchanged.
    g0 = pos.digest
    expected_after = {d for d, (k, g, _) in docs2.items() if k > k0 or (k == k0 and g == g0 and pos.offset < docs2[d][2])}
    assert seen_after == expected_after
    assert seen_after <= set(docs2)  # removed documents are gone
    assert seen_before <= set(docs1)
    overlap = seen_before & seen_after
    assert all(docs1[d][0] == k0 for d in overlap) and len(overlap) <= 1  # only the document cut at the switch
    # Token counts add up exactly: v1's tokens before the point + v2's tokens after it.
    n_before = sum(b - a for r in range(RANKS) for _, a, b in before[r])
    n_after = sum(b - a for r in range(RANKS) for _, a, b in after[r])
    assert n_before == 60 * RANKS * SEQ
    d = diff(str(v1), str(v2), state)
    assert d["checkpoint"]["old"]["tokens_before"] == n_before
    assert n_after == d["checkpoint"]["new"]["tokens_after"]
    assert d["added"]["docs"] == len(set(docs2) - set(docs1)) and d["removed"]["docs"] == len(set(docs1) - set(docs2))
    assert set(d["removed"]["by_step_reason"]) == {"clean/gopher_quality too_few_words"}
    assert set(d["added"]["by_source"]) == {"corpus"}
    text = cli("diff", str(v1), str(v2))
    assert "removed, by the step and reason" in text and "clean/gopher_quality too_few_words" in text

    # Version 2 built with 1 and 3 workers: the same shards, so the same hand-over.
    for workers in (1, 3):
        again = version(tmp_path, f"v2-{workers}", min_words=250, extra=True, workers=workers)
        assert tree_digest(again, ("shards",)) == tree_digest(v2, ("shards",))


def test_mixture_shares_and_a_weight_change_at_a_checkpoint(tmp_path: Path):
    write_inputs(tmp_path)
    web = version(tmp_path, "web", min_words=50, extra=False)
    job = {"name": "zh", "seed": 9, "output": str(tmp_path / "zh"),
           "input": {"format": "jsonl", "paths": [str(tmp_path / "extra.jsonl")]},
           "stages": [{"name": "clean", "steps": []},
                      {"name": "tokenize", "tokenizer": {"tiktoken": "cl100k_base"}, "shard_tokens": 20_000}]}
    Job.from_dict(job).run(workers=2)
    sources = {"web": str(web / "tokenize" / "manifest.json"), "zh": str(tmp_path / "zh" / "tokenize" / "manifest.json")}
    mix = Mixture(sources, {"web": 0.7, "zh": 0.3}, seq_len=2048)
    counts = {"web": 0, "zh": 0}
    it = iter(mix)
    n = 10_000_000 // 2048 + 1
    for _ in range(n):
        next(it)
        counts[mix.last_source] += 2048
    total = sum(counts.values())
    assert total >= 10_000_000 and abs(counts["web"] / total - 0.7) < 0.01
    # Checkpoint, change the weights, and resume from the state on a fresh mixture.
    state = json.loads(json.dumps(mix.state_dict()))
    fresh = Mixture(sources, {"web": 0.7, "zh": 0.3}, seq_len=2048)
    fresh.load_state_dict(state)
    fresh.set_weights({"web": 0.2, "zh": 0.8})
    it2 = iter(fresh)
    picks = []
    for _ in range(1000):
        next(it2)
        picks.append(fresh.last_source)
    assert abs(picks.count("zh") / 1000 - 0.8) < 0.01 and picks[:5].count("zh") >= 3  # from the first sequence on
    # Resuming without a change continues exactly where the first mixture is.
    same = Mixture(sources, {"web": 0.7, "zh": 0.3}, seq_len=2048)
    same.load_state_dict(state)
    a, b = next(iter(same)), next(it)
    assert np.array_equal(a, b) and same.last_source == mix.last_source
