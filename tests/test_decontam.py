"""Benchmark decontamination: items planted in real pages in the forms leaks take (question alone,
question with options, solution alone, reformatted) are found; real clean pages are left alone."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from cc_cleaner.filters.benchmarks import DEFAULT, load_benchmark
from cc_cleaner.filters.decontaminate import SHIPPED_INDEX, ContaminationIndex, item_tokens, words_weight
from cc_cleaner.pipeline.step import StepContext, get_step
from cc_cleaner.pipeline.text import kgram_hashes

from conftest import REPO, cli, shared_path
from decontam_plant import FORMS, planted_pages
from realtext import clean_pages

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def step():
    return get_step("decontaminate", {}, StepContext())  # the shipped index: no benchmark files needed


@pytest.fixture(scope="module")
def pages():
    return clean_pages(shared_path())


@pytest.fixture(scope="module")
def planted(pages):
    return planted_pages(shared_path("benchmarks"), pages, per_form=60, seed=7)


def run(step, texts: list[str]):
    t = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts, "url": [None] * len(texts),
                  "source": ["t"] * len(texts)})
    return step.process(t)


def test_planted_items_found_in_every_form(step, planted, capsys):
    assert {b for b, *_ in planted} == set(DEFAULT)
    res = run(step, [p[3] for p in planted])
    found = dict(zip(res.rejected["id"].to_pylist(), res.rejected["contamination"].to_pylist(), strict=True))
    spans = dict(zip(res.rejected["id"].to_pylist(), res.rejected["contamination_span"].to_pylist(), strict=True))
    hit, total = Counter(), Counter()
    for i, (bench, form, name, _) in enumerate(planted):
        total[bench, form] += 1
        hit[bench, form] += name in found.get(str(i), [])
        if str(i) in spans:
            assert spans[str(i)] and spans[str(i)] in planted[i][3]  # the matched text, from the document
    recall = sum(hit.values()) / sum(total.values())
    with capsys.disabled():
        print(f"\ndecontamination recall {recall:.4f} on {sum(total.values())} planted items; per form: "
              + ", ".join(f"{b}/{f} {hit[b, f]}/{total[b, f]}" for b, f in sorted(total)))
    assert recall >= 0.98
    for bench, forms in FORMS.items():
        for form in forms:
            assert hit[bench, form] >= 0.9 * total[bench, form], (bench, form, hit[bench, form], total[bench, form])
    assert res.counters["max:indexed:mmlu"] == 14079 and res.counters["benchmark:ceval"] >= 150


def test_texts_looked_up_together_are_flagged_as_one_by_one(step, pages, planted):
    """``may_match`` (texts tokenized and looked up in chunks) flags every text in which ``match``
    finds a gram of the index, and no other, whatever the chunk size."""
    texts = [p[3] for p in planted[::10]] + [t for _, t in pages[:300]] + ["", None, "one two"]
    idx = step.index
    alone = np.array([bool(t) and bool(_grams_found(idx, t)) for t in texts])
    assert alone.sum() >= len(planted[::10])
    for chunk in (1, 5_000, 1 << 20):
        assert (idx.may_match(texts, chunk_chars=chunk) == alone).all()


def _grams_found(idx, text: str) -> bool:
    """Whether one of the text's grams is in the index, looked up one length at a time."""
    tok = item_tokens(text)[2]
    for k in idx._lengths:
        if len(tok) >= k:
            g = kgram_hashes(tok, k)
            at = np.minimum(np.searchsorted(idx.hashes, g), len(idx.hashes) - 1)
            if (idx.hashes[at] == g).any():
                return True
    return False


def test_no_hits_on_clean_real_pages(step, pages):
    assert len(pages) >= 1000
    res = run(step, [t for _, t in pages])
    assert res.rejected.num_rows == 0, list(zip(res.rejected["contamination"].to_pylist(),
                                               res.rejected["contamination_span"].to_pylist(), strict=True))[:5]


def test_no_hits_on_real_chinese_short_texts(step):
    """Titles, abstracts and app descriptions: where a short Chinese question would match by chance."""
    texts = []
    for p in sorted(shared_path("multilingual_text", "chinese_fewclue").glob("*.jsonl.gz")):
        rows = [json.loads(x) for x in gzip.decompress(p.read_bytes()).decode().split("\n") if x.strip()]
        lines = [" ".join(v for v in r.values() if isinstance(v, str)) for r in rows]
        texts += ["\n".join(lines[i:i + 40]) for i in range(0, len(lines), 40)]
    from opencc import OpenCC

    # The same texts in traditional characters: folding them to simplified adds no chance match.
    to_traditional = OpenCC("s2t").convert
    texts += [to_traditional(t) for t in texts[::4]]
    res = run(step, texts)
    assert len(texts) > 1300 and res.rejected.num_rows == 0, res.rejected["contamination_span"].to_pylist()[:5]


def test_short_questions_need_the_whole_question(step):
    idx = step.index
    q = "Which pair of ratios can form a proportion when both are written as fractions of whole numbers?"
    zh = "人和动物的根本区别是"  # ten characters weigh five words: too short to stand alone
    assert words_weight(zh, np.arange(len(zh))) == 5.0 and not idx.match(zh + "什么？")[0]
    # A short MMLU question (8-12 tokens) is one gram of all its tokens: all or nothing.
    mmlu = {n: units for _, n, units in load_benchmark("mmlu", shared_path("benchmarks"))}
    short = next(u[0][1] for n, u in mmlu.items() if 8 <= len(u[0][1].split()) <= 10 and "?" in u[0][1])
    assert idx.match(f"Quiz night. {short} Write your answer below.")[0]
    assert not idx.match(f"Quiz night. {' '.join(short.split()[:-2])} Write your answer below.")[0]
    assert not idx.match(q)[0]


def test_cut_policy_removes_only_the_item():
    cut = get_step("decontaminate", {"benchmarks": ["gsm8k"], "action": "cut"}, StepContext())
    _, _, units = next(load_benchmark("gsm8k", shared_path("benchmarks")))
    question = dict(units)["question"]
    text = f"An intro paragraph about farming that is ours.\n{question}\nA closing remark that is ours as well."
    res = run(cut, [text])
    out = res.kept["text"].to_pylist()[0]
    assert out.startswith("An intro paragraph") and out.endswith("ours as well.")
    assert "Janet" not in out and res.kept["contamination"].to_pylist()[0] == ["gsm8k:0"]


def test_shipped_index_is_the_one_the_files_build(tmp_path):
    """The packaged index holds hashes only and equals a fresh build from the raw test sets."""
    out = tmp_path / "idx.npz"
    cli("decontam-index", "--benchmarks-dir", str(shared_path("benchmarks")), "--output", str(out))
    a, b = ContaminationIndex.load(SHIPPED_INDEX), ContaminationIndex.load(out)
    assert a.indexed == b.indexed and {k: v for k, v in a.indexed.items()} == {
        "gsm8k": 1319, "humaneval": 164, "mbpp": 974, "mmlu": 14079, "cmmlu": 11582, "ceval": 13688}
    oa, ob = np.lexsort((a.owners, a.hashes)), np.lexsort((b.owners, b.hashes))
    assert np.array_equal(a.hashes[oa], b.hashes[ob]) and np.array_equal(a.owners[oa], b.owners[ob])
    with np.load(SHIPPED_INDEX) as z:  # no benchmark text in the package: numbers and item ids only
        assert all(z[k].dtype.kind in "uif" for k in z.files if k not in ("meta", "item_names"))
        assert max(len(s) for s in z["item_names"].tolist()) < 80
    assert SHIPPED_INDEX.is_relative_to(REPO)


def test_user_files_with_the_shipped_index(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"id": "q1", "question": "How many moons orbit the fictional planet Zarnak in the "
                                "Vega system according to the 2031 survey?", "answer": "Seventeen moons."}) + "\n")
    s = get_step("decontaminate", {"files": [{"name": "mine", "path": str(path), "fields": ["question", "answer"]}]},
                 StepContext(stage=str(tmp_path)))
    res = run(s, ["Trivia: how many moons orbit the fictional planet Zarnak in the Vega system, according to "
                  "the 2031 survey? Nobody knows.", "Janet's ducks lay 16 eggs per day. She eats three for breakfast "
                  "every morning and bakes muffins for her friends every day with four. She sells the remainder at "
                  "the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day "
                  "at the farmers' market?"])
    assert res.rejected["contamination"].to_pylist() == [["mine:q1"], ["gsm8k:0"]]
    assert res.counters["max:indexed:mine"] == 1


def test_workers_map_one_index_built_once(tmp_path, monkeypatch):
    """The step's index is a memory-mapped copy on local disk: built by the first worker, mapped
    by the others (nothing rebuilt), the same matches as the index built in memory; a changed
    user file makes a new one."""
    from cc_cleaner.filters import decontaminate as dmod

    monkeypatch.setenv("CC_CLEANER_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"id": "q1", "question": "Which river crosses the imaginary city of Lorvanne "
                                "twice before reaching the Quellic Sea?"}) + "\n")
    cfg = dmod.DecontaminateConfig(files=[{"name": "mine", "path": str(path), "fields": ["question"]}])
    first = dmod.mapped_index(cfg, str)
    assert isinstance(first.hashes.base, np.memmap) and isinstance(first._filter.base, np.memmap)
    built = []
    monkeypatch.setattr(dmod, "load_index", lambda *a: built.append(a))
    second = dmod.mapped_index(cfg, str)  # another worker: maps, does not build
    assert not built and np.array_equal(first.hashes, second.hashes)
    monkeypatch.undo()
    monkeypatch.setenv("CC_CLEANER_CACHE", str(tmp_path / "cache"))
    whole = dmod.load_index(cfg, str)  # built in memory, as before
    texts = ["Quiz: which river crosses the imaginary city of Lorvanne twice before reaching the Quellic Sea?",
             "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for "
             "her friends every day with four. She sells the remainder at the farmers' market daily for $2 per "
             "fresh duck egg. How much in dollars does she make every day at the farmers' market?", "Nothing here."]
    for t in texts:
        a, b = first.match(t), whole.match(t)
        assert a[0] == b[0] and a[3] == b[3]
    assert first.match(texts[0])[0] and first.match(texts[1])[0]
    path.write_text(path.read_text().replace("twice", "three times"))
    assert len(list((tmp_path / "cache" / "decontam").iterdir())) == 1
    dmod.mapped_index(cfg, str)
    assert len(list((tmp_path / "cache" / "decontam").iterdir())) == 2


def test_a_missing_benchmark_is_a_clear_error():
    with pytest.raises(ValueError, match="not in this index"):
        get_step("decontaminate", {"benchmarks": ["hellaswag"]}, StepContext())
    assert Path(SHIPPED_INDEX).stat().st_size < 30e6
