"""A user-defined filter: named in a job by dotted path, ``userpkg.steps:TitleCaseRatio``."""

from __future__ import annotations

import pyarrow as pa
from pydantic import Field

from cc_cleaner.pipeline.step import Evaluation, FilterStep, Histogram, StepConfig


class TitleCaseConfig(StepConfig):
    max_ratio: float = Field(default=0.5, ge=0, le=1)


class TitleCaseRatio(FilterStep):
    """Drops documents whose words are mostly Title Case (menus, headline lists)."""

    name = "title_case_ratio"
    Config = TitleCaseConfig

    def histograms(self) -> list[Histogram]:
        return [Histogram("title_case_ratio", [i / 10 for i in range(11)], self.config.max_ratio)]

    def evaluate(self, table: pa.Table) -> Evaluation:
        ratios = []
        for text in table["text"].to_pylist():
            words = [w for w in (text or "").split() if w[:1].isalpha()]
            ratios.append(sum(w[:1].isupper() for w in words) / len(words) if words else 0.0)
        reasons = ["mostly_title_case" if r > self.config.max_ratio else None for r in ratios]
        return Evaluation({"title_case_ratio": pa.array(ratios, pa.float64())}, reasons)
