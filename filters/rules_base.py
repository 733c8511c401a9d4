"""Shared base of the heuristic rule filters: thresholds declared once, per-language overrides.

A rule filter declares its document-level thresholds as ``Bound``s: the config field that holds
the limit (``min_*`` or ``max_*`` says which way it bounds), the metric column it bounds, the
reason a document fails it, and the histogram edges. The checks (``judge``) and the histograms
drawn with their thresholds (``histograms``) both derive from that one declaration.

Published rule defaults (Gopher, C4, FineWeb, RefinedWeb) were tuned on English. Each rule
filter may declare built-in overrides for languages written without spaces (counted in
characters, see ``pipeline.text``), and users may override any field per language:

    gopher_quality: {min_words: 80, overrides: {zh: {min_words: 150}}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError, model_validator

from cc_cleaner.pipeline.step import FilterStep, Histogram, StepConfig
from cc_cleaner.pipeline.text import table_languages


@dataclass(frozen=True)
class Bound:
    option: str  # the config field with the limit: min_* (fail below) or max_* (fail above); None turns it off
    column: str  # the metric it bounds
    reason: str  # why a document failing it is dropped
    edges: tuple[float, ...] | None = None  # a histogram of the metric, drawn at this limit
    # The metric is already value / limit (the option holds several limits, e.g. per n-gram size):
    # it fails above 1.0 whatever the option holds.
    relative: bool = False

    def __post_init__(self) -> None:
        if not self.option.startswith(("min_", "max_")):
            raise ValueError(f"bound option {self.option!r} must start with min_ or max_")

    def limit(self, config: Any) -> float | None:
        return 1.0 if self.relative else getattr(config, self.option)

    def fails(self, value: float, config: Any) -> bool:
        limit = self.limit(config)
        if limit is None:
            return False
        return value > limit if self.relative or self.option.startswith("max_") else value < limit


class RuleConfig(StepConfig):
    overrides: dict[str, dict[str, Any]] = {}  # language code -> {field: value}

    @model_validator(mode="after")
    def _overrides_valid(self) -> RuleConfig:
        """Each language's merged options must be valid too (checked when the job loads)."""
        for lang, over in self.overrides.items():
            if "overrides" in over:
                raise ValueError(f"overrides.{lang}: overrides do not nest")
            try:
                type(self).model_validate({**self.model_dump(), **over, "overrides": {}})
            except ValidationError as e:
                err = e.errors()[0]
                raise ValueError(f"overrides.{lang}.{'.'.join(map(str, err['loc']))}: "
                                 f"{err['msg'].removeprefix('Value error, ')}") from None
        return self


class RuleFilter(FilterStep):
    # Built-in per-language adjustments (documented in each filter); user overrides win.
    language_defaults: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "adds" not in cls.__dict__:
            cls.adds = frozenset(b.column for b in cls.bounds) | {h.column for h in cls.free_histograms}
        missing = [b.option for b in cls.bounds if b.option not in cls.Config.model_fields]
        if missing:
            raise TypeError(f"{cls.__name__}: bounds name options its Config lacks: {missing}")

    def setup(self) -> None:
        base = self.config.model_dump()
        langs = set(self.language_defaults) | set(self.config.overrides)
        self._by_lang = {}
        for lang in langs:
            merged = {**base, **self.language_defaults.get(lang, {}), **self.config.overrides.get(lang, {}),
                      "overrides": {}}
            self._by_lang[lang] = type(self.config).model_validate(merged)

    def config_for(self, lang: str) -> Any:
        return self._by_lang.get(lang, self.config)

    languages = staticmethod(table_languages)

    # Document-level thresholds, in the order they are checked (the first failed one is the reason).
    bounds: ClassVar[tuple[Bound, ...]] = ()
    # Histograms of metrics that no bound limits.
    free_histograms: ClassVar[tuple[Histogram, ...]] = ()

    def histograms(self) -> list[Histogram]:
        drawn = [Histogram(b.column, list(b.edges), b.limit(self.config)) for b in self.bounds if b.edges]
        return drawn + list(self.free_histograms)

    def judge(self, values: Mapping[str, float], config: Any) -> str | None:
        """The reason of the first bound the values fail, or None."""
        return next((b.reason for b in self.bounds if b.fails(values[b.column], config)), None)
