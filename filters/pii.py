"""PII scrubbing with presidio (analyzer + anonymizer), fully offline.

presidio runs with pattern recognizers only: a blank spaCy pipeline stands in for the NLP
model (no model download), and tldextract (used to validate e-mail domains) is told to use its
bundled public-suffix list instead of fetching one. Recognizers are chosen explicitly (the
predefined registry holds country-specific ones that fire on unrelated numbers): e-mail, phone
(phonenumbers, incl. mainland China), IPv4/IPv6, credit card (Luhn), IBAN (checksum), US SSN,
and our own: mainland-China resident ID (GB 11643 checksum), URLs with credentials, and secrets
(cloud/API keys, tokens, private-key headers, ``password=...``). A cheap regular expression
skips the analyzer for documents with no candidate at all.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sys
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from cc_cleaner.filters.pii_context import UNSPACED, plausible
from cc_cleaner.pipeline.step import Evaluation, FilterStep, Histogram, StepConfig, register

ENTITIES = {  # our name -> presidio entity type
    "EMAIL": "EMAIL_ADDRESS", "PHONE": "PHONE_NUMBER", "IP": "IP_ADDRESS", "CREDIT_CARD": "CREDIT_CARD",
    "IBAN": "IBAN_CODE", "US_SSN": "US_SSN", "CN_ID": "CN_ID", "SECRET": "SECRET", "URL_CREDENTIALS": "URL_CREDENTIALS",
}
OURS = {v: k for k, v in ENTITIES.items()}
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "CA", "AU", "CN", "HK", "TW", "SG", "JP")

# What may stand between the digits of a phone number: white space, brackets, dots, and every
# dash phonenumbers reads as one (Unicode dashes, the minus sign, Japanese ー, full-width forms:
# 電話：０３－１２３４－５６７８, 03（1234）5678).
_DASHES = "\u2010-\u2015\u2212\u30fc\uff08\uff09\uff0d\uff0e"
SEPARATORS = "\\s().\\-" + _DASHES
# The @ of an address written so that scrapers miss it: jane [at] example [dot] org, jane(at)uni.de.
AT_WORD = r"[\[({<]\s*at\s*[\])}>]"
# Anything an entity needs: an @ (or such an at), a run of 7+ digits (separators allowed
# between), a colon-run (IPv6), a URL with credentials, a key prefix or a secret keyword.
PREFILTER = re.compile(
    rf"@|(?i:{AT_WORD})|\d[\d{SEPARATORS}]{{5,}}\d|[0-9a-fA-F]{{1,4}}:[0-9a-fA-F]{{0,4}}:|"
    r"AKIA|ASIA|gh[pousr]_|xox[abprs]-|sk-|AIza|BEGIN [A-Z ]*PRIVATE KEY|(?i:api[_-]?key|secret|token|passw)|"
    r"\b[A-Z]{2}\d{2}[A-Z0-9]{4}")

# The same candidates, found faster: Python's re scans a pattern of many alternatives position by
# position, so each kind gets a pattern that starts with what is rare (an @, a digit, a colon),
# and the secret keywords a substring test first.
_FAST = [re.compile(p) for p in (r"@", rf"(?i:{AT_WORD})", r"BEGIN [A-Z ]*PRIVATE KEY")]
_RUN = re.compile(rf"\d[\d{SEPARATORS}]{{5,}}\d")  # (also where a phone number can be)
_KEY_PREFIX = re.compile(r"AKIA|ASIA|gh[pousr]_|xox[abprs]-|sk-|AIza")
# Substrings one of which every key prefix holds: plain substring tests decide most pages.
_KEY_GATE = ("AKIA", "ASIA", "xox", "sk-", "AIza", "ghp_", "gho_", "ghu_", "ghs_", "ghr_")
_IBAN = re.compile(r"\d\d(?<=\b[A-Z]{2}\d\d)[A-Z0-9]{4}")
_IPV6 = re.compile(r":(?=[0-9a-fA-F]{0,4}:)")
_HEX = frozenset("0123456789abcdefABCDEF")
_KEYWORD = re.compile(r"(?i:api[_-]?key|secret|token|passw)")
_KEYWORD_GATE = ("api_key", "api-key", "apikey", "secret", "token", "passw")


def candidates(text: str, runs: list[tuple[int, int]] | None = None, keys: bool | None = None,
               keywords: bool | None = None, iban: bool | None = None) -> list[tuple[int, int]]:
    """Where PREFILTER matches (the same texts have one), as spans sorted by start. A caller that
    has them passes the text's digit runs (``_RUN``'s matches) and whether it may hold a key
    prefix, a keyword or an IBAN (``screen``); the rest is found here."""
    spans = [m.span() for r in _FAST for m in r.finditer(text)]
    spans += runs if runs is not None else [m.span() for m in _RUN.finditer(text)]
    if keys if keys is not None else any(k in text for k in _KEY_GATE):
        spans += [m.span() for m in _KEY_PREFIX.finditer(text)]
    if iban is not False:
        spans += [(m.start() - 2, m.end()) for m in _IBAN.finditer(text)]
    spans += [(m.start() - 1, m.start() + 1) for m in _IPV6.finditer(text) if m.start() and text[m.start() - 1] in _HEX]
    if keywords is None:
        # What (?i) takes for a letter of the keywords (for ASCII text, plain lower case; İ
        # casefolds to i and a combining dot).
        low = text.lower() if text.isascii() else text.casefold().replace("ı", "i").replace("i\u0307", "i")
        keywords = any(w in low for w in _KEYWORD_GATE)
    if keywords:
        spans += [m.span() for m in _KEYWORD.finditer(text)]
    spans.sort()
    return spans


# The characters other than a letter's two ASCII cases that Python's re (?i) takes for it.
FOLDS = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}


def _chars(test: Any) -> str:
    """An RE2 class body of every code point (surrogates aside) that ``test`` accepts."""
    out, start = [], None
    for c in range(sys.maxunicode + 2):
        ok = c <= sys.maxunicode and not 0xD800 <= c <= 0xDFFF and test(chr(c))
        if ok and start is None:
            start = c
        elif not ok and start is not None:
            out.append(f"\\x{{{start:X}}}" + (f"-\\x{{{c - 1:X}}}" if c - 1 > start else ""))
            start = None
    return "".join(out)


@functools.cache
def screens() -> dict[str, str]:
    """RE2 patterns (Arrow's regex engine, a whole column at a time) that match a text wherever
    ``candidates`` finds something of their kind in it: "any" (PREFILTER), "keys" (a key
    prefix's substring), "keywords" and "iban". Python's \\d and \\s are spelled out as its re
    reads them (str methods), the keywords' letters as (?i) reads them; the IBAN's word boundary
    is left out (RE2's is ASCII), so "iban" and "any" may match where Python's patterns do not."""
    d, s = _chars(str.isdecimal), _chars(str.isspace)

    def ci(word: str) -> str:
        return "".join(f"[{c}{c.upper()}{FOLDS.get(c, '')}]" for c in word)

    keywords = "|".join((ci("api") + "[_\\-]?" + ci("key"), ci("secret"), ci("token"), ci("passw")))
    keys = "AKIA|ASIA|xox|sk-|AIza|gh[pousr]_"
    iban = f"[A-Z]{{2}}[{d}]{{2}}[A-Z0-9]{{4}}"
    run = f"[{d}][{d}{s}().\\-{_DASHES}]{{5,}}[{d}]"
    hexes = "[0-9a-fA-F]{1,4}:[0-9a-fA-F]{0,4}:"
    at = f"[\\[({{<][{s}]*[aA][tT][{s}]*[\\])}}>]"
    return {"any": "|".join(("@", at, run, hexes, keys, "BEGIN [A-Z ]*PRIVATE KEY", keywords, iban)),
            "keys": keys, "keywords": keywords, "iban": iban}


def screen(texts: pa.ChunkedArray | pa.Array) -> dict[str, list[bool]]:
    """Per text, whether each of ``screens``' patterns matches it."""
    import pyarrow.compute as pc

    return {k: pc.match_substring_regex(texts, p).fill_null(False).to_pylist() for k, p in screens().items()}


# Per presidio entity: a pattern that every pattern of its recognizer contains, compiled with the
# recognizer's own flags. A window it does not match holds no hit of that entity, so presidio is
# not asked for it there (each recognizer costs about as much to ask as to run).
GATES = {
    "EMAIL_ADDRESS": rf"@|{AT_WORD}",
    "IP_ADDRESS": r":|[0-9]\.[0-9]",  # IPv6 forms hold a colon, IPv4 a digit, dot, digit
    "CREDIT_CARD": r"[13456]\d{3}[- ]?\d{3}",
    "IBAN_CODE": r"[A-Z]{2}[0-9]{2}",
    "US_SSN": r"[0-9]{3}[- .]?[0-9]{2}",
    "CN_ID": r"\d{8}",
    "SECRET": r"akia|asia|gh[pousr]_|xox[abprs]-|sk-|aiza|-----begin |api[_-]?key|secret|access[_-]?token|password|passwd",
    "URL_CREDENTIALS": r"://[^\s/:@]+:[^\s/@]+@",
}

# A character of an unspaced script that touches an ASCII letter or digit (or the + of a number).
_TOUCHING = re.compile(f"[{UNSPACED}](?=[A-Za-z0-9+])|(?<=[A-Za-z0-9])[{UNSPACED}]")


def spaced(text: str) -> str:
    """``text`` with each character of an unspaced script that touches an ASCII letter or digit
    replaced by a NUL: the same length, so spans carry over. presidio's patterns need a word
    boundary there, which Chinese or Japanese text does not have (邮箱是zhangsan@example.com谢谢).
    Not a space: phonenumbers would read two numbers around it as one (站50站1961-2012年)."""
    return text if text.isascii() else _TOUCHING.sub("\x00", text)


# The whole address around such an at (the recognizers' flags ignore case): a local part, the
# at, labels joined by a dot or a bracketed "dot", a last label of letters.
_DOT_WORD = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\.)"
AT_WORD_EMAIL = (rf"(?<![\w.%+-])[a-z0-9][a-z0-9._%+-]*\s*{AT_WORD}\s*[a-z0-9][a-z0-9-]*"
                 rf"(?:{_DOT_WORD}[a-z0-9][a-z0-9-]*)*{_DOT_WORD}[a-z]{{2,}}(?![a-z0-9-])")

WINDOW = 64  # characters of context each side of a candidate that presidio analyses
# Each side of a digit run (where a phone number can be): the window its context words fit in.
PHONE_WINDOW = 40


def windows(text: str, spans: list[tuple[int, int]], width: int, whole: bool = True) -> list[tuple[int, int]]:
    """The text around each span (``width`` characters each side, widened to white space, merged),
    or (``whole``) the whole text when that is most of it. Recognizers and their context words see
    the same neighbourhood either way; the context checks (pii_context) read the whole text."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        a, b = max(0, s - width), min(len(text), e + width)
        while a > 0 and not text[a - 1].isspace() and s - a < 2 * width:
            a -= 1
        while b < len(text) and not text[b].isspace() and b - e < 2 * width:
            b += 1
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    if whole and sum(b - a for a, b in out) > len(text) // 2:
        return [(0, len(text))]
    return out


_CN_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def cn_id_valid(value: str) -> bool:
    v = value.upper()
    if len(v) != 18 or not v[:17].isdigit():
        return False
    check = "10X98765432"[sum(int(c) * w for c, w in zip(v[:17], _CN_ID_WEIGHTS, strict=True)) % 11]
    return v[17] == check


class PiiConfig(StepConfig):
    entities: list[Literal["EMAIL", "PHONE", "IP", "CREDIT_CARD", "IBAN", "US_SSN", "CN_ID", "SECRET",
                           "URL_CREDENTIALS"]] = list(ENTITIES)
    action: Literal["placeholder", "mask", "hash"] = "placeholder"
    min_score: float = 0.3  # presidio's score; phone numbers score 0.4 without context
    prefilter: bool = True
    drop_over: int | None = None  # drop documents with more entities than this (None: never)
    # Reject look-alikes by their context: dates, DOIs, ISSNs, ids in URLs, prices, versions,
    # private and reserved IP ranges (see pii_context).
    context_checks: bool = True


# A phone candidate's plan: (a date, maybe a time stamp, per inner pattern the turns of the
# matcher's loop, each the (group, offset) pairs it parses).
Plan = tuple[bool, bool, tuple[tuple[tuple[tuple[str, int], ...], ...], ...]]


def build_analyzer(entities: list[str]) -> Any:
    import phonenumbers
    import phonenumbers.phonenumbermatcher as pm
    import spacy
    import tldextract
    from presidio_analyzer import (
        AnalyzerEngine,
        EntityRecognizer,
        Pattern,
        PatternRecognizer,
        RecognizerRegistry,
    )
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    # Offline: the bundled suffix list, never a download.
    tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls = ()

    class Lazy:
        """spaCy's tokens of a text, made when something first reads them: only the context
        enhancer does, and only for a hit, so most windows (no hit) never pay for them."""

        def __init__(self, make: Any, text: str, language: str) -> None:
            self._args = (make, text, language)

        def __getattr__(self, name: str) -> Any:
            if "_real" not in self.__dict__:
                make, text, language = self._args
                self._real = make(text, language)
            return getattr(self._real, name)

    class Blank:
        """``spacy.blank("en")`` (no pipeline components), made when first used: only presidio's
        own enhancer would use it, and ours (below) does not call it (0.3 s per worker saved)."""

        def __getattr__(self, name: str) -> Any:
            if "_nlp" not in self.__dict__:
                self._nlp = spacy.blank("en")
            return getattr(self._nlp, name)

        def __call__(self, text: str) -> Any:
            return self.__getattr__("__call__")(text)

    class BlankEnglish(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": Blank()}

        def process_text(self, text: str, language: str) -> Any:
            return Lazy(super().process_text, text, language)

    class CnIdRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return cn_id_valid(pattern_text)

    class AtWordEmail(PatternRecognizer):
        """An address with its @ and dots written as words; its domain must end in a public
        suffix, as presidio's own e-mail recognizer asks (``table (at) page.html`` is none)."""

        def validate_result(self, pattern_text: str) -> bool:
            domain = re.split(AT_WORD, pattern_text, flags=re.I)[-1]
            return bool(tldextract.extract(re.sub(_DOT_WORD, ".", domain, flags=re.I).strip()).suffix)

    class Enhancer(LemmaContextAwareEnhancer):
        """presidio's enhancer raises a hit's score where a lemma before it holds a context word
        of its recognizer. The blank pipeline has no component to set lemmas, so every lemma is
        empty and holds no word: unless a context word is empty or the caller passes context,
        the hits are returned as they are, and the window is never tokenized for them."""

        def enhance_using_context(self, text: str, raw_results: list[Any], nlp_artifacts: Any,
                                  recognizers: list[Any], context: list[str] | None = None) -> list[Any]:
            if context or not all(w for r in recognizers for w in r.context or ()):
                return super().enhance_using_context(text, raw_results, nlp_artifacts, recognizers, context)
            return raw_results

    class Matcher(phonenumbers.PhoneNumberMatcher):
        """phonenumbers' matcher, its steps as the library takes them, with what does not depend
        on the region worked out once: the matcher of every region searches the same text for the
        same candidates and cuts the same inner groups from them (``searches``, ``plans``), and
        pages repeat their numbers (on real pages about 4 in 5 parses repeat one made before:
        ``valid`` remembers whether a string parses as a valid number of the region alone, and
        ``futile`` which candidates hold no such string at all). Of the strings never parsed
        before, about 3 in 5 are too short to be valid (``too_short``) and are not parsed."""

        valid: dict[tuple[str, str], bool] = {}
        plans: dict[str, Plan] = {}
        # (candidate, region) -> the tries it costs, where none of its pieces is valid alone
        futile: dict[tuple[str, str], int] = {}
        near = False  # whether a piece of the candidate being matched was valid alone

        def __init__(self, text: str, region: str, leniency: Any, searches: dict[int, Any]) -> None:
            super().__init__(text, region, leniency=leniency)
            self.searches = searches  # shared by the matchers of one text: start index -> candidate

        def _candidate(self, index: int) -> tuple[int, str] | None:
            if index not in self.searches:
                m = pm._PATTERN.search(self.text, index)
                self.searches[index] = None if m is None else (m.start(), self._trim_after_first_match(
                    pm._SECOND_NUMBER_START_PATTERN, self.text[m.start():m.end()]))
            return self.searches[index]

        def _find(self, index: int) -> Any:
            found = self._candidate(index)
            while self._max_tries > 0 and found is not None:
                start, candidate = found
                if len(candidate) >= self._min_candidate_length:
                    match = self._extract_match(candidate, start)
                    if match is not None:
                        return match
                    self._max_tries -= 1
                found = self._candidate(start + len(candidate))
            return None

        def _plan(self, candidate: str) -> Plan:
            """(a date, maybe a time stamp, per inner pattern the (group, offset) pairs each turn
            of the library's loop parses): all of it depends on the candidate alone."""
            plan = self.plans.get(candidate)
            if plan is None:
                if len(self.plans) > 100_000:
                    self.plans.clear()
                inner = []
                for pattern in pm._INNER_MATCHES:
                    turns: list[tuple[tuple[str, int], ...]] = []
                    g = pattern.search(candidate)
                    while g:
                        turn = ((self._trim_after_first_match(pm._UNWANTED_END_CHAR_PATTERN, g.group(1)), g.start(1)),)
                        if not turns:  # the first turn parses what comes before the group too
                            turn = ((self._trim_after_first_match(pm._UNWANTED_END_CHAR_PATTERN,
                                                                  candidate[:g.start()]), 0), *turn)
                        turns.append(turn)
                        g = pattern.search(candidate, g.start() + 1)
                    inner.append(tuple(turns))
                plan = self.plans[candidate] = (bool(pm._SLASH_SEPARATED_DATES.search(candidate)),
                                                bool(pm._TIME_STAMPS.search(candidate)), tuple(inner))
            return plan

        def _extract_match(self, candidate: str, offset: int) -> Any:
            date, stamp, inner = self._plan(candidate)
            if date or (stamp and pm._TIME_STAMPS_SUFFIX.match(self.text, offset + len(candidate))):
                return None
            key = (candidate, self.preferred_region)
            tries = self.futile.get(key)
            if tries is not None:  # nothing in it is a valid number of the region, wherever it is
                self._max_tries -= tries
                return None
            before, self.near = self._max_tries, False
            match = self._parse_and_verify(candidate, offset)
            if match is not None:
                return match
            for turns in inner:
                for turn in turns:
                    if self._max_tries <= 0:
                        break
                    for group, at in turn:
                        match = self._parse_and_verify(group, offset + at)
                        if match is not None:
                            return match
                        self._max_tries -= 1
            if not self.near and self._max_tries > 0:  # every piece was tried, none valid alone
                if len(self.futile) > 100_000:
                    self.futile.clear()
                self.futile[key] = before - self._max_tries
            return None

        def _parse_and_verify(self, candidate: str, offset: int) -> Any:
            key = (candidate, self.preferred_region)
            if key not in self.valid:
                if len(self.valid) > 100_000:  # about 15 MB
                    self.valid.clear()
                if self.leniency != pm.Leniency.POSSIBLE and too_short(candidate, self.preferred_region):
                    self.valid[key] = False
                else:
                    # The candidate alone: the same brackets, parse and validity checks, none
                    # of the checks of the characters either side of it.
                    text, self.text = self.text, candidate
                    try:
                        self.valid[key] = super()._parse_and_verify(candidate, 0) is not None
                    finally:
                        self.text = text
            # Invalid alone is invalid anywhere; a valid one still has its neighbours checked.
            if not self.valid[key]:
                return None
            self.near = True
            return super()._parse_and_verify(candidate, offset)

    class Phones(PhoneRecognizer):
        """presidio's phone recognizer with the matcher above (its explanation names the region
        whose matcher found the number)."""

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            searches: dict[int, Any] = {}
            results = [self._get_recognizer_result(m, text, region, nlp_artifacts)
                       for region in self.supported_regions
                       for m in Matcher(text, region, self.leniency, searches)]
            return EntityRecognizer.remove_duplicates(results)

    nlp = BlankEnglish(models=[{"lang_code": "en", "model_name": "blank"}])
    nlp.load()
    make = {
        "EMAIL": lambda: [EmailRecognizer(), AtWordEmail(supported_entity="EMAIL_ADDRESS", name="AtWordEmail",
                                                         patterns=[Pattern("email_at_word", AT_WORD_EMAIL, 0.7)])],
        "PHONE": lambda: Phones(supported_regions=PHONE_REGIONS),
        "IP": lambda: IpRecognizer(),
        "CREDIT_CARD": lambda: CreditCardRecognizer(),
        "IBAN": lambda: IbanRecognizer(),
        "US_SSN": lambda: UsSsnRecognizer(),
        "CN_ID": lambda: CnIdRecognizer(supported_entity="CN_ID", patterns=[Pattern(
            "cn_id", r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                     r"(?![0-9A-Za-z])", 0.6)]),
        "URL_CREDENTIALS": lambda: PatternRecognizer(supported_entity="URL_CREDENTIALS", patterns=[Pattern(
            "url_creds", r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s/:@]+:[^\s/@]+@[^\s/?#]+", 0.9)]),
        "SECRET": lambda: PatternRecognizer(supported_entity="SECRET", patterns=[
            Pattern("aws_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0.9),
            Pattern("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36,}\b", 0.9),
            Pattern("slack_token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b", 0.9),
            Pattern("openai_key", r"\bsk-[A-Za-z0-9_-]{32,}\b", 0.8),
            Pattern("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}\b", 0.9),
            Pattern("private_key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----", 0.9),
            Pattern("assignment", r"(?i)\b(?:api[_-]?key|secret|access[_-]?token|password|passwd)\s*[:=]\s*"
                                  r"['\"]?[A-Za-z0-9_\-+/=]{12,}", 0.6)]),
    }
    registry = RecognizerRegistry(supported_languages=["en"])
    for e in entities:
        made = make[e]()
        for rec in made if isinstance(made, list) else [made]:
            registry.add_recognizer(rec)
    return AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"],
                          context_aware_enhancer=Enhancer())


@functools.cache
def shortest_number(region: str) -> tuple[int, Any] | None:
    """The fewest digits a valid number of ``region``'s country code has, and the region's
    international prefix; None where a number can have more digits than were dialled (a national
    prefix rule that writes digits of its own) or has no length limit."""
    from phonenumbers.phonemetadata import PhoneMetadata
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    md = PhoneMetadata.metadata_for_region(region)
    if md is None or md.international_prefix is None or re.sub(r"\\\d", "", md.national_prefix_transform_rule or ""):
        return None
    lengths = [PhoneMetadata.metadata_for_region(r).general_desc.possible_length
               for r in COUNTRY_CODE_TO_REGION_CODE.get(md.country_code, ())]
    if not lengths or not all(lengths):
        return None
    return min(min(x) for x in lengths), re.compile(md.international_prefix)


def too_short(candidate: str, region: str) -> bool:
    """Whether ``candidate``, dialled without a + or ``region``'s international prefix, has fewer
    digits than any valid number of the region's country code. phonenumbers' parse only drops
    digits (prefixes, an extension) unless letters spell them or a ``;phone-context=`` adds them,
    so such a candidate never parses to a valid number: on real pages about 3 in 5 of the
    matcher's parses are of such candidates."""
    digits = _dialled(candidate)
    bound = shortest_number(region)
    return digits is not None and bound is not None and len(digits) < bound[0] and not bound[1].match(digits)


@functools.lru_cache(maxsize=1 << 16)
def _dialled(candidate: str) -> str | None:
    """The digits phonenumbers reads in ``candidate`` (its own notion of a digit); None where
    letters, a plus sign or a ``;`` can make the number longer than they are."""
    import phonenumbers

    if any(c.isalpha() or c in "+\uff0b;" for c in candidate):
        return None
    return phonenumbers.normalize_digits_only(candidate)


def gates(analyzer: Any) -> dict[str, Any]:
    """``GATES`` compiled with the flags of the analyzer's recognizer of each entity (the same
    ``regex`` module and case folding), for the entities it has."""
    import regex

    out = {}
    for rec in analyzer.registry.recognizers:
        for e in rec.supported_entities:
            if e in GATES and getattr(rec, "global_regex_flags", None) is not None:
                out[e] = regex.compile(GATES[e], flags=rec.global_regex_flags)
    return out


@register
class Pii(FilterStep):
    """Replaces PII spans; adds ``pii_count``; counts per entity type in the stats."""

    name = "pii"
    adds = frozenset({"pii_count"})
    Config = PiiConfig
    config: PiiConfig

    def setup(self) -> None:
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig

        self.analyzer = build_analyzer(list(self.config.entities))
        self.anonymizer = AnonymizerEngine()
        self.presidio_entities = [ENTITIES[e] for e in self.config.entities]
        # Phone numbers are looked for in narrower windows of their own: phonenumbers' matcher,
        # run once per region, is most of presidio's time.
        self.phone = "PHONE_NUMBER" in self.presidio_entities
        self.other_entities = [e for e in self.presidio_entities if e != "PHONE_NUMBER"]
        self.gates = gates(self.analyzer)
        seed = str(self.ctx.seed).encode()
        ops = {}
        for ours, theirs in ENTITIES.items():
            if self.config.action == "placeholder":
                ops[theirs] = OperatorConfig("replace", {"new_value": f"<{ours}>"})
            elif self.config.action == "mask":
                ops[theirs] = OperatorConfig("mask", {"masking_char": "*", "chars_to_mask": 10_000,
                                                      "from_end": False})
            else:
                ops[theirs] = OperatorConfig("custom", {"lambda": lambda x, o=ours: f"<{o}:" + hashlib.sha256(
                    seed + x.encode()).hexdigest()[:12] + ">"})
        self.operators = ops

    def check(self) -> None:
        # presidio's setup (about a second) cannot fail on a valid config: the driver only checks
        # that it is installed, and the workers set it up.
        import importlib.util

        for mod in ("presidio_analyzer", "presidio_anonymizer", "phonenumbers"):
            if importlib.util.find_spec(mod) is None:
                raise ImportError(f"{mod} is not installed")

    def histograms(self) -> list[Histogram]:
        return [Histogram("pii_count", list(range(0, 11)) + [20, 50, 1e9], self.config.drop_over)]

    def find(self, text: str) -> list[Any]:
        return self._analyze(text) or []

    def _analyze(self, text: str, screened: dict[str, bool] | None = None) -> list[Any] | None:
        """Presidio's hits in ``text``; None when the prefilter finds no candidate. ``screened``:
        what ``screen`` found in the text, where the caller has it."""
        if not self.config.prefilter:
            found = self._run(text, [(0, len(text))], self.presidio_entities)
        else:
            screened = screened or {}
            if screened.get("any") is False:
                return None
            runs = [m.span() for m in _RUN.finditer(text)]
            cands = candidates(text, runs, screened.get("keys"), screened.get("keywords"), screened.get("iban"))
            if not cands:
                return None
            found = self._run(text, windows(text, cands, WINDOW), self.other_entities)
            if self.phone:
                # (never the whole text: the matcher's time grows with the text it scans, per region)
                found += self._run(text, windows(text, runs, PHONE_WINDOW, whole=False), ["PHONE_NUMBER"])
        if not self.config.context_checks:
            return found
        return [r for r in found if plausible(r.entity_type, text, r.start, r.end)]

    def _run(self, text: str, spans: list[tuple[int, int]], entities: list[str]) -> list[Any]:
        found = []
        if not entities:
            return found
        for a, b in spans:
            window = text[a:b]
            wanted = [e for e in entities if e not in self.gates or self.gates[e].search(window)]
            if not wanted:
                continue
            for r in self.analyzer.analyze(spaced(window), language="en", entities=wanted,
                                           score_threshold=self.config.min_score):
                r.start, r.end = r.start + a, r.end + a
                found.append(r)
        return found

    def evaluate(self, table: pa.Table) -> Evaluation:
        texts, counts, reasons = [], [], []
        counters: dict[str, int] = {}
        analyzed = 0
        column = table["text"]
        screened = screen(column) if self.config.prefilter else {}
        for i, text in enumerate(column.to_pylist()):
            results = self._analyze(text, {k: v[i] for k, v in screened.items()})
            analyzed += results is not None
            if results:
                out = self.anonymizer.anonymize(text=text, analyzer_results=results, operators=self.operators)
                kept_types = [OURS.get(i.entity_type, i.entity_type) for i in out.items]
                for t in kept_types:
                    counters[f"entity:{t}"] = counters.get(f"entity:{t}", 0) + 1
                texts.append(out.text)
                counts.append(len(kept_types))
            else:
                texts.append(text)
                counts.append(0)
            over = self.config.drop_over is not None and counts[-1] > self.config.drop_over
            reasons.append("too_much_pii" if over else None)
        counters["docs_analyzed"] = analyzed
        return Evaluation({"text": pa.array(texts, pa.string()), "pii_count": pa.array(np.array(counts, dtype=np.int32))},
                          reasons, counters)
