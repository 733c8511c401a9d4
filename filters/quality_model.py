"""Model-based quality filter: a fastText classifier's probability of the positive label.

``cc-cleaner train-quality`` trains such a model (see ``cc_cleaner.jobs.train_quality``); the
project ships a small one, ``data/quality_web_article.ftz``, trained on article text versus page
boilerplate (README: "Quality model").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from pydantic import Field, model_validator

from cc_cleaner.pipeline.fasttext import load_model
from cc_cleaner.pipeline.step import Evaluation, FilterStep, Histogram, StepConfig, register
from cc_cleaner.pipeline.text import tokens

DEFAULT_MODEL = str(Path(__file__).parent / "data" / "quality_web_article.ftz")
MAX_TOKENS = 2000


def fasttext_line(text: str) -> str:
    """The text as the classifier sees it, in training and in use: lower-cased tokens, CJK by character."""
    return " ".join(tokens(text)[:MAX_TOKENS])


class QualityModelConfig(StepConfig):
    model: str | None = None  # fastText .bin/.ftz; default: the shipped model
    positive_label: str = "hq"
    min_score: float | None = Field(default=None, ge=0, le=1)
    top_fraction: float | None = Field(default=None, gt=0, le=1)  # keep the best fraction of each part

    @model_validator(mode="after")
    def _one_rule(self) -> QualityModelConfig:
        if self.min_score is not None and self.top_fraction is not None:
            raise ValueError("give min_score or top_fraction, not both")
        return self


@register
class QualityModel(FilterStep):
    """Adds ``quality_score``; drops below ``min_score`` (default 0.5) or outside ``top_fraction``.

    ``top_fraction`` ranks the documents of each checkpointed part (``part_records`` inputs), so
    it stays deterministic and resumable; with parts of thousands of documents the cut is close to
    a global quantile.
    """

    name = "quality_model"
    adds = frozenset({"quality_score"})
    Config = QualityModelConfig
    config: QualityModelConfig

    def setup(self) -> None:
        path = self.ctx.resolve(self.config.model) if self.config.model else DEFAULT_MODEL
        self.model = load_model(path)
        self.label = f"__label__{self.config.positive_label}"
        if self.label not in self.model.get_labels():
            raise ValueError(f"{path}: no label {self.label!r} (labels: {self.model.get_labels()})")

    def histograms(self) -> list[Histogram]:
        th = self.config.min_score if self.config.top_fraction is None else None
        return [Histogram("quality_score", [i / 50 for i in range(51)], th if th is not None else 0.5)]

    def scores(self, texts: list[str]) -> np.ndarray:
        labels, probs = self.model.predict([fasttext_line(t) for t in texts], k=-1)  # list input: numpy-2 safe
        out = np.zeros(len(texts), dtype=np.float32)
        for i, (lab, p) in enumerate(zip(labels, probs, strict=True)):
            for name, prob in zip(lab, p, strict=True):
                if name == self.label:
                    out[i] = min(1.0, float(prob))
        return out

    def evaluate(self, table: pa.Table) -> Evaluation:
        s = self.scores(table["text"].to_pylist())
        if self.config.top_fraction is not None:
            n_keep = int(np.ceil(len(s) * self.config.top_fraction))
            order = np.lexsort((table["id"].to_numpy(zero_copy_only=False), -s))  # ties broken by id
            keep = np.zeros(len(s), dtype=bool)
            keep[order[:n_keep]] = True
            reasons = [None if k else "outside_top_fraction" for k in keep]
        else:
            th = 0.5 if self.config.min_score is None else self.config.min_score
            reasons = [None if v >= th else "quality_score_too_low" for v in s]
        return Evaluation({"quality_score": pa.array(s)}, reasons)
