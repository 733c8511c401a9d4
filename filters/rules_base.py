"""Shared base of the heuristic rule filters: per-language threshold overrides.

Published rule defaults (Gopher, C4, FineWeb, RefinedWeb) were tuned on English. Each rule
filter may declare built-in overrides for languages written without spaces (counted in
characters, see ``pipeline.text``), and users may override any field per language:

    gopher_quality: {min_words: 80, overrides: {zh: {min_words: 150}}}
"""

from __future__ import annotations

from typing import Any, ClassVar

from cc_cleaner.pipeline.step import FilterStep, StepConfig
from cc_cleaner.pipeline.text import table_languages


class RuleConfig(StepConfig):
    overrides: dict[str, dict[str, Any]] = {}  # language code -> {field: value}


class RuleFilter(FilterStep):
    # Built-in per-language adjustments (documented in each filter); user overrides win.
    language_defaults: ClassVar[dict[str, dict[str, Any]]] = {}

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
