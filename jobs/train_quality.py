"""Train a fastText quality classifier from positive and negative examples, with a held-out report.

    cc-cleaner train-quality --positive good.jsonl --negative bad.parquet --output quality.bin

Inputs are JSONL(.gz/.zst) or Parquet files with a ``text`` field (``--text-field``). A seeded
10% of each class is held out; the report (``OUTPUT.json``) gives accuracy, precision, recall,
F1 at 0.5 and ROC AUC on it.
"""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
from typing import Any

import numpy as np

from cc_cleaner.filters.quality_model import fasttext_line
from cc_cleaner.pipeline.decode import decode_payload
from cc_cleaner.pipeline.fasttext import predict, require_training
from cc_cleaner.pipeline.readers import InputConfig, expand_paths, read_file


def read_texts(paths: list[str], text_field: str = "text") -> list[str]:
    out: list[str] = []
    for path in expand_paths(paths):
        fmt = "parquet" if path.endswith(".parquet") else "jsonl"
        cfg = InputConfig(format=fmt, paths=[path], text_field=text_field)
        for item in read_file(path, cfg, "train"):
            if isinstance(item, dict):
                out.append(item["text"])
            elif hasattr(item, "column"):
                out.extend(t for t in item.column("text").to_pylist() if t)
    return [t for t in out if t and t.strip()]


_SPACE = re.compile(r"\s+")


def boilerplate_segments(html: bytes, main_text: str) -> list[str]:
    """The text segments of a page that are not part of its main text: negatives for training."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(decode_payload(html)[0])
    except Exception:  # lxml rejects some pages outright (empty, XML declarations, ...)
        return []
    for bad in tree.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    squashed = _SPACE.sub("", main_text)
    segs = (_SPACE.sub(" ", t).strip() for t in tree.itertext())
    return [s for s in segs if len(s) >= 2 and _SPACE.sub("", s) not in squashed]


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum statistic (ties get average ranks)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s = scores[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if not n_pos or not n_neg:
        return float("nan")
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def train_quality(positive: list[str], negative: list[str], output: str, *, holdout: float = 0.1, seed: int = 0,
                  epoch: int = 10, lr: float = 0.5, dim: int = 64, word_ngrams: int = 2, min_count: int = 2,
                  bucket: int = 2_000_000, quantize: bool = False, cutoff: int = 50_000) -> dict[str, Any]:
    fasttext = require_training()
    rng = random.Random(seed)
    data = [(1, t) for t in positive] + [(0, t) for t in negative]
    train, test = [], []
    for label in (1, 0):
        items = [t for lab, t in data if lab == label]
        rng.shuffle(items)
        k = max(1, int(len(items) * holdout)) if len(items) > 1 else 0
        test += [(label, t) for t in items[:k]]
        train += [(label, t) for t in items[k:]]
    rng.shuffle(train)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        for label, text in train:
            f.write(f"__label__{'hq' if label else 'lq'} {fasttext_line(text)}\n")
        train_file = f.name
    try:
        model = fasttext.train_supervised(input=train_file, epoch=epoch, lr=lr, dim=dim, wordNgrams=word_ngrams,
                                          minCount=min_count, bucket=bucket, seed=seed, thread=1, verbose=0)
        if quantize:
            model.quantize(input=train_file, retrain=True, qnorm=True, cutoff=cutoff)
    finally:
        os.unlink(train_file)
    model.save_model(output)
    labels_arr = np.array([lab == 1 for lab, _ in test])
    scores = np.zeros(len(test))
    if test:
        labels, probs = predict(model, [fasttext_line(t) for _, t in test], k=-1)
        for i, (labs, p) in enumerate(zip(labels, probs, strict=True)):
            scores[i] = dict(zip(labs, p, strict=True)).get("__label__hq", 0.0)
    pred = scores >= 0.5
    tp = int((pred & labels_arr).sum())
    prec = tp / max(1, int(pred.sum()))
    rec = tp / max(1, int(labels_arr.sum()))
    report = {
        "model": os.path.basename(output), "train_examples": len(train), "heldout_examples": len(test),
        "positives": len(positive), "negatives": len(negative), "seed": seed,
        "params": {"epoch": epoch, "lr": lr, "dim": dim, "word_ngrams": word_ngrams, "min_count": min_count,
                   "bucket": bucket, "quantized": quantize, "cutoff": cutoff if quantize else None},
        "heldout": {"accuracy": float((pred == labels_arr).mean()) if len(test) else float("nan"),
                    "precision": prec, "recall": rec, "f1": 2 * prec * rec / max(1e-9, prec + rec),
                    "roc_auc": roc_auc(scores, labels_arr)},
        "model_bytes": os.path.getsize(output),
    }
    with open(output + ".json", "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    return report
