"""One big input file is read by several tasks (byte ranges of a WARC, row groups of a Parquet
file); what the job writes does not depend on how the file was cut."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cc_cleaner.pipeline.job import Job
from cc_cleaner.pipeline.readers import InputConfig, input_splits

from conftest import SHARED, shared_path
from helpers import article_pages, tree_digest, write_warc

pytestmark = pytest.mark.slow


def rows(folder: Path) -> list[dict]:
    out = [r for p in sorted(folder.glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    return sorted(out, key=lambda r: r["id"])


def run(tmp: Path, name: str, fmt: str, path: Path, split_bytes: int, steps: list) -> Path:
    job = {"name": "split", "seed": 4, "output": str(tmp / name),
           "input": {"format": fmt, "paths": [str(path)], "split_bytes": split_bytes},
           "stages": [{"name": "clean", "part_records": 25, "steps": steps},
                      {"name": "tokenize", "tokenizer": {"tiktoken": "cl100k_base"}, "shard_tokens": 50_000,
                       "buckets": 4}]}
    Job.from_dict(job).run(workers=2)
    return tmp / name


def test_a_big_warc_cut_into_byte_ranges_gives_the_same_corpus(tmp_path: Path):
    shared_path("html_extraction", "article_extraction_benchmark")
    warc = tmp_path / "big.warc.gz"
    write_warc(warc, article_pages(SHARED))
    size = warc.stat().st_size
    splits = input_splits(str(warc), InputConfig(format="warc", paths=[str(warc)], split_bytes=size // 9))
    assert len(splits) >= 8
    steps = ["extract", {"language": {"keep": ["en"]}}]
    whole = run(tmp_path, "whole", "warc", warc, size * 2, steps)
    cut = run(tmp_path, "cut", "warc", warc, size // 9, steps)
    assert len(list((cut / "_state" / "clean" / "tasks").glob("*.done"))) == len(splits)
    for folder in ("data", "rejected"):
        a, b = rows(whole / "clean" / folder), rows(cut / "clean" / folder)
        assert a == b and (folder == "rejected" or len(a) >= 150)
    assert tree_digest(whole, ("shards",)) == tree_digest(cut, ("shards",))  # byte-identical token shards


def test_a_big_parquet_file_cut_by_row_groups_gives_the_same_corpus(tmp_path: Path):
    truth = json.loads((shared_path("html_extraction", "article_extraction_benchmark") / "ground-truth.json")
                       .read_text())
    docs = [{"id": k, "text": v["articleBody"]} for k, v in sorted(truth.items()) if v.get("articleBody")]
    docs += [{"id": f"noid-{i}", "text": None} for i in range(3)]  # errors, reported once
    path = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pylist(docs), path, row_group_size=10)
    splits = input_splits(str(path), InputConfig(format="parquet", paths=[str(path)], split_bytes=40_000))
    assert len(splits) >= 4
    whole = run(tmp_path, "whole", "parquet", path, 1 << 40, ["gopher_quality"])
    cut = run(tmp_path, "cut", "parquet", path, 40_000, ["gopher_quality"])
    for folder in ("data", "rejected"):
        assert rows(whole / "clean" / folder) == rows(cut / "clean" / folder)
    errors = [json.loads(ln) for p in sorted((cut / "clean" / "errors").glob("*.jsonl")) for ln in p.read_text().splitlines()]
    assert sorted(e["line"] for e in errors) == [len(docs) - 2, len(docs) - 1, len(docs)]
    assert tree_digest(whole, ("shards",)) == tree_digest(cut, ("shards",))
