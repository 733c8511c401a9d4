"""Benchmark decontamination: planted real items are found, clean real pages are left alone."""

from __future__ import annotations

import json
import random
import re

import pyarrow as pa
import pytest

from cc_cleaner.filters.benchmarks import load_benchmark
from cc_cleaner.pipeline.step import StepContext, get_step

from conftest import SHARED, shared_path
from extraction_eval import wcxb

pytestmark = pytest.mark.slow
BENCH = ["gsm8k", "humaneval", "mbpp", "mmlu", "cmmlu", "ceval"]


@pytest.fixture(scope="module")
def step():
    shared_path("benchmarks")
    return get_step("decontaminate", {"benchmarks": BENCH, "benchmarks_dir": str(SHARED / "benchmarks")},
                    StepContext())


def reformat(text: str, rng: random.Random) -> str:
    """Light reformatting: line breaks to spaces, doubled spaces, case and punctuation changes."""
    t = re.sub(r"\s+", lambda m: rng.choice([" ", "  ", "\n"]), text)
    t = t.replace("?", " ?").replace(",", " ,").replace("。", "。 ")
    return t.upper() if rng.random() < 0.5 else t


def run(step, texts: list[str]):
    t = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts, "url": [None] * len(texts),
                  "source": ["t"] * len(texts)})
    return step.process(t)


def test_planted_items_are_found_verbatim_and_reformatted(step):
    rng = random.Random(3)
    root = SHARED / "benchmarks"
    pages = [v["articleBody"] for v in json.loads((SHARED / "html_extraction" / "article_extraction_benchmark" /
                                                   "ground-truth.json").read_text()).values()]
    zh_pages = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "html_extraction" /
                                                                "chinese_web_content_extraction" / "cleaned").glob("*.txt"))]
    planted, texts = [], []
    for bench in BENCH:
        items = [it for it in load_benchmark(bench, root) if len(it[2]) > 80]
        for k, (b, item_id, text) in enumerate(rng.sample(items, 8)):
            host = rng.choice(zh_pages if bench in ("cmmlu", "ceval") else pages)
            cut = len(host) // 2
            body = text if k % 2 == 0 else reformat(text, rng)
            texts.append(f"{host[:cut]}\n{body}\n{host[cut:]}")
            planted.append(f"{b}:{item_id}")
    res = run(step, texts)
    assert res.kept.num_rows == 0
    found = dict(zip(res.rejected["id"].to_pylist(), res.rejected["contamination"].to_pylist(), strict=True))
    for i, name in enumerate(planted):
        assert name in found[str(i)], (name, found[str(i)])
    assert res.counters["benchmark:cmmlu"] >= 8 and res.counters["benchmark:gsm8k"] >= 8


def test_no_false_hits_on_clean_real_pages(step):
    pages = [v["articleBody"] for v in json.loads((SHARED / "html_extraction" / "article_extraction_benchmark" /
                                                   "ground-truth.json").read_text()).values()]
    pages += [p.truth for p in wcxb(SHARED)]
    pages += [p.read_text(encoding="utf-8") for p in sorted((SHARED / "html_extraction" /
                                                              "chinese_web_content_extraction" / "cleaned").glob("*.txt"))]
    res = run(step, pages)
    assert res.rejected.num_rows == 0, res.rejected.select(["contamination"]).to_pylist()
    assert res.kept.num_rows == len(pages) > 700


def test_cut_policy_removes_only_the_item(step):
    cut = get_step("decontaminate", {"benchmarks": ["gsm8k"], "benchmarks_dir": str(SHARED / "benchmarks"),
                                     "action": "cut"}, StepContext())
    _, _, item = next(load_benchmark("gsm8k", SHARED / "benchmarks"))
    text = f"An intro paragraph about farming that is ours.\n{item}\nA closing remark that is ours as well."
    res = run(cut, [text])
    out = res.kept["text"].to_pylist()[0]
    assert out.startswith("An intro paragraph") and out.endswith("ours as well.")
    assert "Janet" not in out and res.kept["contamination"].to_pylist()[0] == ["gsm8k:0"]
