"""Language ID accuracy on real sentences (lingua test data, 75 languages, 1,000 sentences each)."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pytest

from cc_cleaner.pipeline.step import StepContext, get_step

from conftest import shared_path

MUST = {"en", "zh", "de", "fr", "es", "ru", "ja"}


def classify(texts: list[str]) -> list[str]:
    step = get_step("language", {}, StepContext())
    t = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts, "url": [None] * len(texts),
                  "source": ["t"] * len(texts)})
    return step.process(t).kept["lang"].to_pylist()


@pytest.mark.slow
def test_sentence_accuracy_per_language(capsys):
    root = shared_path("multilingual_text", "lingua_language_testdata", "sentences")
    acc = {}
    for p in sorted(root.glob("*.txt.gz")):
        gold = p.name.split(".")[0]
        lines = [ln for ln in gzip.decompress(p.read_bytes()).decode("utf-8").splitlines() if ln.strip()]
        pred = classify(lines)
        acc[gold] = sum(x == gold for x in pred) / len(lines)
    with capsys.disabled():
        print("\nlid.176 sentence accuracy:", " ".join(f"{k}={v:.3f}" for k, v in sorted(acc.items())))
    assert len(acc) == 75
    for lang in MUST:
        assert acc[lang] > 0.95, (lang, acc[lang])


def test_keep_list_and_per_language_threshold():
    step = get_step("language", {"keep": ["en", "zh"], "min_score": {"en": 0.99}}, StepContext())
    texts = ["The committee will publish its findings on the water supply next spring.",
             "委员会将于明年春天公布关于供水问题的调查结果。",
             "Der Ausschuss wird seine Ergebnisse im nächsten Frühjahr veröffentlichen.",
             "ok thanks"]
    t = pa.table({"id": ["a", "b", "c", "d"], "text": texts, "url": [None] * 4, "source": ["t"] * 4})
    res = step.process(t)
    reasons = dict(zip(res.rejected["id"].to_pylist(), res.rejected["reason"].to_pylist(), strict=True))
    assert reasons["c"] == "language_not_kept"
    assert "lang" in res.rejected.column_names and "lang_score" in res.kept.column_names
    assert "b" in res.kept["id"].to_pylist()
