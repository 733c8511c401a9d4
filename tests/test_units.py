"""Unit tests of the pieces every stage relies on: the shuffle, stats merging, winnowing, token-run cuts, the output layout and Store on a non-local filesystem."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pyarrow as pa
import pytest

from cc_cleaner.dedup.strings import winnow
from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.shuffle import gather, scatter
from cc_cleaner.pipeline.stats import PartStats, StepStats, merge
from cc_cleaner.pipeline.step import Histogram
from cc_cleaner.pipeline.store import Store
from cc_cleaner.pipeline.text import (
    covered_runs,
    cut_token_runs,
    has_words,
    regex_class,
    script_language,
    token_spans,
    tokens,
    word_bounds,
    word_spans,
    words,
)

from conftest import shared_path
from realtext import clean_pages


@pytest.fixture(params=["file", "memory"])
def store(request, tmp_path) -> Store:
    """A Store on the local disk and one on fsspec's in-memory filesystem (as on s3:// or gs://)."""
    if request.param == "file":
        return Store(str(tmp_path / "out"))
    return Store(f"memory://cc-test-{uuid.uuid4().hex[:8]}")


def test_shuffle_partitions_every_row_once_in_producer_order(store):
    t1 = pa.table({"k": pa.array([5, 1, 8, 3, 12], pa.uint64()), "v": ["a", "b", "c", "d", "e"]})
    t2 = pa.table({"k": pa.array([4, 7], pa.uint64()), "v": ["f", "g"]})
    scatter(store, "st", "x", "p2", t2, t2["k"].to_numpy(), 4)  # written first, read second: name order
    scatter(store, "st", "x", "p1", t1, t1["k"].to_numpy(), 4)
    got = {p: gather(store, "st", "x", p, t1.schema)["v"].to_pylist() for p in range(4)}
    assert got == {0: ["c", "e", "f"], 1: ["a", "b"], 2: [], 3: ["d", "g"]}
    assert gather(store, "st", "x", 2, t1.schema).schema == t1.schema  # empty partition, right schema


def test_arrow_shuffle_files_keep_nulls_types_and_empty_tables(store):
    t = pa.table({"a": pa.nulls(3), "b": pa.array([None, "x", "ünï"]),
                  "c": pa.array([[1], None, []], pa.list_(pa.field("element", pa.uint32()))),
                  "d": pa.array(["a", "b", "a"]).dictionary_encode(), "k": pa.array([0, 1, 2], pa.uint64())})
    for rel, table in (("x/full.arrow", t), ("x/empty.arrow", t.slice(0, 0))):
        store.write_arrow(rel, table)
        assert store.read_arrow(rel).equals(table)


def test_gather_reads_shuffle_files_of_a_stage_begun_by_a_parquet_writing_version(store):
    folder = layout.shuffle_dir("st", "x", 0)
    store.write_table(f"{folder}/p1.parquet", pa.table({"v": ["old p1"]}))  # a producer that finished before
    store.write_table(f"{folder}/p3.parquet", pa.table({"v": ["old p3"]}))  # one that ran again since
    scatter(store, "st", "x", "p3", pa.table({"v": ["new p3"]}), np.zeros(1, np.uint64), 1)
    scatter(store, "st", "x", "p2", pa.table({"v": ["new p2"]}), np.zeros(1, np.uint64), 1)
    assert gather(store, "st", "x", 0)["v"].to_pylist() == ["old p1", "new p2", "new p3"]


def test_store_writes_atomically_lists_visible_files_and_cleans_temps(store):
    store.write_text("a/b/one.json", "{}")
    store.write_table("a/b/two.parquet", pa.table({"x": [1, 2]}))
    store.write_bytes("a/b/.two.parquet.tmp-dead", b"half")  # what a killed writer leaves
    assert store.list("a/b") == ["a/b/one.json", "a/b/two.parquet"]
    assert store.list("a/b", ".parquet") == ["a/b/two.parquet"]
    assert store.read_table("a/b/two.parquet")["x"].to_pylist() == [1, 2]
    assert store.clean_temp("a") == 1 and store.list("a/b") == ["a/b/one.json", "a/b/two.parquet"]
    store.remove("a")
    assert not store.exists("a/b/one.json") and store.list("a/b") == []


def test_layout_part_names_round_trip_and_write_part_writes_marker_last(store):
    part = layout.part_name("crawl_0-1a2b3c4d", 7)
    assert part == "crawl_0-1a2b3c4d-p00007"
    assert layout.task_of(layout.part_of(store.path(layout.data_file("s", part)))) == "crawl_0-1a2b3c4d"
    with pytest.raises(ValueError):
        layout.task_of("no-part-suffix")
    kept = pa.table({"id": ["a"], "text": ["x"]})
    rej = pa.table({"id": ["b"], "text": ["mail me at jo@example.com"], "step": ["s"], "reason": ["r"]})
    st = PartStats("s", "crawl_0-1a2b3c4d", 7, docs_in=2, docs_out=1)
    marker = layout.part_marker("s", "crawl_0-1a2b3c4d", 7)
    layout.write_part(store, "s", part, st, kept=kept, rejected=[rej], errors=['{"error": "x"}'], redact=True,
                      marker=marker)
    assert store.exists(marker)
    assert store.read_table(layout.rejected_file("s", part))["text"].to_pylist() == ["mail me at <EMAIL>"]
    assert store.read_text(layout.errors_file("s", part)) == '{"error": "x"}\n'
    assert json.loads(store.read_text(layout.stats_file("s", part)))["docs_out"] == 1
    assert layout.upstream_groups(store, "s") == {"crawl_0-1a2b3c4d": [store.path(layout.data_file("s", part))]}


def _part(task: str, part: int, drops: dict, counters: dict, hist: list[int]) -> dict:
    st = PartStats("s", task, part, docs_in=10, docs_out=10 - sum(drops.values()))
    step = StepStats("f", docs_in=10, docs_out=st.docs_out, drops=drops, counters=counters)
    step.hists["m"] = {"edges": [0, 1, 2], "counts": hist, "threshold": 1}
    st.steps.append(step)
    return json.loads(st.to_json())


def test_stats_merge_sums_counts_and_takes_max_of_max_counters():
    parts = [_part("b", 0, {"x": 2}, {"seen": 3, "max:indexed:g": 40}, [1, 2]),
             _part("a", 0, {"x": 1, "y": 4}, {"seen": 1, "max:indexed:g": 40}, [0, 5])]
    m = merge(parts)
    assert (m["docs_in"], m["docs_out"], m["parts"]) == (20, 13, 2)
    (f,) = m["steps"]
    assert f["drops"] == {"x": 3, "y": 4}
    assert f["counters"] == {"seen": 4, "max:indexed:g": 40}  # a per-part constant is not summed
    assert f["hists"]["m"]["counts"] == [1, 7]
    assert merge(list(reversed(parts))) == m  # order of the parts does not matter


def test_histogram_counts_values_beyond_the_edges():
    s = StepStats("f")
    s.add_hist(Histogram("c", [0.0, 0.5, 1.0]), np.array([-3.0, 0.2, 0.7, 9.0, np.nan]))
    assert s.hists["c"]["counts"] == [2, 2]


def test_winnow_takes_the_rightmost_minimum_of_each_window():
    h = np.array([5, 3, 3, 9, 1, 4, 4, 8], dtype=np.uint64)
    assert winnow(h, 3).tolist() == [2, 4, 6]  # windows [5,3,3]->2, [3,3,9]->2, [3,9,1]->4, ... [4,4,8]->6
    assert winnow(h, 1).tolist() == list(range(8))
    assert winnow(h[:2], 4).tolist() == [1]  # shorter than a window: its minimum
    assert winnow(np.empty(0, np.uint64), 3).tolist() == []
    # Any window of `window` hashes holds a fingerprint (the guarantee substring dedup relies on).
    rng = np.random.default_rng(0)
    h = rng.integers(0, 50, 300).astype(np.uint64)
    fp = set(winnow(h, 6).tolist())
    assert all(fp & set(range(i, i + 6)) for i in range(len(h) - 5))


def test_covered_runs_and_cuts_fall_on_token_boundaries():
    text = "one two three four five six seven"
    starts, ends, _ = token_spans(text)
    assert covered_runs(len(starts), np.array([1, 2]), 2) == [(1, 4)]
    assert covered_runs(len(starts), np.array([0, 5]), 2, min_run=3) == []
    cut, n = cut_token_runs(text, starts, ends, np.array([1, 2]), 2)
    assert (cut, n) == ("one  five six seven", 1)
    cut, n = cut_token_runs(text, starts, ends, np.array([0, 5]), 2)
    assert (cut, n) == ("three four five", 2)
    zh = "我们今天去北京。"
    s, e, _ = token_spans(zh)
    assert cut_token_runs(zh, s, e, np.array([2]), 2)[0] == "我们去北京。"


def test_parts_follow_a_byte_budget_and_the_record_count():
    from cc_cleaner.pipeline.map_stage import iter_parts

    rows = [{"id": f"r{i}", "html": "x" * (10 if i % 5 else 300)} for i in range(40)]
    table = pa.Table.from_pylist(rows)
    for items in (rows, [table.slice(0, 13), table.slice(13)]):  # records one by one, or Arrow batches
        parts = list(iter_parts(iter(items), 8, max_bytes=100))
        got = [r for p in parts for t in p.tables for r in t.column("id").to_pylist()]
        assert got == [r["id"] for r in rows]  # every record once, in order
        for p in parts:
            ids = [r for t in p.tables for r in t.column("id").to_pylist()]
            sizes = [len(rows[int(i[1:])]["html"]) + len(i) for i in ids]
            assert 1 <= len(ids) <= 8
            assert sum(sizes[:-1]) < 100  # only the record that crosses the budget ends a part
        assert [len(p.tables) and sum(t.num_rows for t in p.tables) for p in parts][:3] == [1, 5, 5]
    one = list(iter_parts(iter(rows), 8))  # no budget: records only
    assert [sum(t.num_rows for t in p.tables) for p in one] == [8] * 5


# Characters where classes disagree: Thai marks, kana punctuation, dotted I (lower-cases to two
# characters), full-width forms, superscripts, emoji, a lone surrogate, NUL.
ODD = ["İstanbul İİ i̇x", "ภาษาไทย์ ที่นี่", "カタカナ・ひらがな ー", "ＡＢＣ１２３ x²½", "a😀b 🇩🇪 c", "x\ud800y", "a\0b",
       "中文，测试。English_words and 123 numbers", ""]


def _multilingual() -> list[str]:
    import gzip

    root = shared_path("multilingual_text", "lingua_language_testdata", "sentences")
    return [gzip.decompress(p.read_bytes()).decode("utf-8") for p in sorted(root.glob("*.txt.gz"))]


def test_word_spans_are_the_tokens_of_tokens():
    """word_spans is the numpy form of tokens(): the same tokens, lengths and equal hashes for
    equal tokens, on 75 languages' sentences, real pages and odd characters."""
    texts = ODD + _multilingual() + [t for _, t in clean_pages(shared_path())[::7]]
    for text in texts:
        toks = tokens(text)
        lens, hashes = word_spans(text)
        assert lens.tolist() == [len(t) for t in toks], text[:80]
        by_token: dict[str, int] = {}
        for t, h in zip(toks, hashes.tolist(), strict=True):
            assert by_token.setdefault(t, h) == h
        assert len(set(by_token.values())) == len(by_token)
        _, starts, ends = word_bounds(text)  # (as gopher_quality and fineweb read words(text))
        assert [text[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)] == words(text), text[:80]


def test_script_language_counts_scripts_as_the_regexes_do():
    import re

    def oracle(text: str) -> str:
        sample = text[:2000]
        letters = len(re.findall(r"[^\W\d_]", sample))
        if not letters:
            return "und"
        han = len(re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]", sample))
        kana = len(re.findall(r"[\u3040-\u30ff]", sample))
        if (han + kana) / letters > 0.3:
            return "ja" if kana > 0.1 * (han + kana) else "zh"
        return "th" if len(re.findall(r"[\u0e00-\u0e7f]", sample)) / letters > 0.3 else "und"

    texts = ODD + [ln for t in _multilingual() for ln in t.splitlines()[:40]]
    assert [script_language(t) for t in texts] == [oracle(t) for t in texts]
    assert {script_language(t) for t in texts} == {"und", "zh", "ja", "th"}
    assert regex_class(r"\w")[ord("_")] and not regex_class(r"[^\W\d_]")[ord("7")]


def test_has_words_is_a_count_that_stops_early():
    lines = [ln for t in ODD + _multilingual()[:10] for ln in t.splitlines()[:50]]
    for line in lines:
        for n in (0, 1, 3, 10):
            assert has_words(line, n) == (len(words(line)) >= n), (line, n)
