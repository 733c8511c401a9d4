"""Extraction quality on real pages with ground truth, through the step the pipeline runs."""

from __future__ import annotations

import pyarrow as pa
import pytest

from cc_cleaner.pipeline.decode import decode_payload
from cc_cleaner.pipeline.step import StepContext, get_step
from cc_cleaner.pipeline.text import token_f1, tokens

from conftest import SHARED, shared_path
from extraction_eval import Page, article_benchmark, mean_f1, wcxb


def extract_all(pages: list[Page], **cfg) -> dict[str, str]:
    step = get_step("extract", cfg, StepContext())
    table = pa.table({"id": [p.id for p in pages], "url": [p.url for p in pages],
                      "source": ["t"] * len(pages), "html": [decode_payload(p.html)[0] for p in pages]})
    res = step.process(table)
    assert res.kept.num_rows + res.rejected.num_rows == len(pages)
    assert "html" not in res.kept.column_names
    return dict(zip(res.kept["id"].to_pylist(), res.kept["text"].to_pylist(), strict=True))


def test_tokens_and_f1():
    assert tokens("Hello, World 你好") == ["hello", "world", "你", "好"]
    assert token_f1("a b c", "a b c")[2] == 1.0 and token_f1("a", "b")[2] == 0.0


@pytest.mark.slow
def test_article_benchmark_f1():
    shared_path("html_extraction", "article_extraction_benchmark")
    pages = article_benchmark(SHARED)
    assert len(pages) == 181
    f1 = mean_f1(pages, extract_all(pages))
    assert f1 >= 0.92, f1  # trafilatura's published level on this set is ~0.95


@pytest.mark.slow
def test_wcxb_f1_sample():
    shared_path("html_extraction", "wcxb_test")
    pages = wcxb(SHARED)[::4]
    f1 = mean_f1(pages, extract_all(pages))
    assert f1 >= 0.82, f1  # ~0.87 on the whole set


def test_empty_and_boilerplate_pages_are_rejected_with_a_reason():
    pages = [Page("a", "http://x/", b"<html><head><script>var x = 1;</script></head><body></body></html>", ""),
             Page("b", "http://y/", b"", "")]
    step = get_step("extract", {}, StepContext())
    table = pa.table({"id": ["a", "b"], "url": ["http://x/", "http://y/"], "source": ["t", "t"],
                      "html": [decode_payload(p.html)[0] if p.html else "" for p in pages]})
    res = step.process(table)
    assert res.kept.num_rows == 0 and set(res.rejected["reason"].to_pylist()) == {"no_text"}
    assert set(res.rejected["step"].to_pylist()) == {"extract"}
