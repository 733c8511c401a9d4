"""The ``rights`` step: what site owners said about their pages, applied by a policy the job states.

It reads the columns extraction added (``filters.rights_signals``) and, when a table of
``/.well-known/tdmrep.json`` captures is given, joins each document's origin-wide TDM reservation
by path pattern (W3C TDMRep: ``location`` patterns with ``*`` wildcards and an optional ``$``
end; the most specific match wins). Default policy: drop what reserves AI use or text and data
mining for the configured agents (``noai``, a TDM reservation), keep every licence; licences
can be dropped or tagged by SPDX pattern (``*-ND-*``), and sources the user has licensed are
allowed whatever they say. A header and a meta tag that disagree: the stricter wins (a directive
in either applies). A copyright notice is evidence, never a drop or a licence.

In a job the tdmrep.json table is joined to the documents by host (``filters.origin_join``), so no
worker holds it whole; used on its own (``get_step``) the step loads it whole.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
from pydantic import Field

from cc_cleaner.filters.robots import decode_body, load_table, origin
from cc_cleaner.pipeline.readers import expand_paths
from cc_cleaner.pipeline.step import Evaluation, FilterStep, StepConfig, register

TDMREP_PATH = "/.well-known/tdmrep.json"


class LicensePolicy(StepConfig):
    drop: list[str] = []  # SPDX patterns (fnmatch): e.g. ["*-ND-*"]
    tag: list[str] = []  # kept, and marked in ``rights_tagged``: e.g. ["*-NC-*"]


class RightsConfig(StepConfig):
    agents: list[str] = ["*", "CCBot", "GPTBot", "Google-Extended"]  # whose per-agent directives apply
    drop_on: list[str] = Field(default=["noai", "tdm-reservation"])  # of noai, noimageai, noindex, none, ...
    licenses: LicensePolicy = LicensePolicy()
    tdmrep: str | list[str] | None = None  # captures of /.well-known/tdmrep.json (WARC, JSONL or Parquet)
    partitions: int = Field(default=16, gt=0)  # of the join of the tdmrep table with the documents' URLs
    allow: list[str] = []  # hosts (with their subdomains) or "url:<prefix>" the user has licensed


@register
class Rights(FilterStep):
    name = "rights"
    Config = RightsConfig
    config: RightsConfig
    needs = frozenset({"url"})
    adds = frozenset({"rights_cause", "rights_tagged"})

    def setup(self) -> None:
        self.agents = {a.lower() for a in self.config.agents}
        self.table_errors: Counter = Counter()
        self.files = expand_paths(self.table_paths(self.config, self.ctx))  # a missing table fails here
        self._tdmrep: dict[str, tuple] | None = None if self.files else {}
        self.verdicts: dict[str, tuple[list[str], int]] | None = None  # a map task's, from the join

    @staticmethod
    def table_paths(config: RightsConfig, ctx: Any) -> list[str]:
        paths = [config.tdmrep] if isinstance(config.tdmrep, str) else list(config.tdmrep or [])
        return [ctx.resolve(p) for p in paths]

    @property
    def tdmrep(self) -> dict[str, tuple]:
        """The whole tdmrep.json table, loaded on first use: only outside a job's join."""
        if self._tdmrep is None:
            self._tdmrep = load_table(self.files, self.table_errors, TDMREP_PATH)
        return self._tdmrep

    @classmethod
    def join_phases(cls, config: Any, ctx: Any, store: Any, tasks: list[Any]) -> Any:
        if not config.tdmrep:
            return []
        from cc_cleaner.filters.origin_join import join_phases

        return join_phases(cls.name, config, ctx, store, tasks, expand_paths(cls.table_paths(config, ctx)),
                           TDMREP_PATH, config.partitions, redirects=False)

    def join_decide(self, table: dict[str, tuple], urls: list[str]) -> dict[str, Any]:
        """In the join: each URL's tdmrep signals and whether its tdmrep.json was malformed."""
        self._tdmrep = table
        out = {}
        for u in urls:
            counters: Counter = Counter()
            out[u] = [self._tdmrep_signals(u, counters), counters["rights_malformed_tdmrep"]]
        return out

    def start_task(self, store: Any, task_index: int) -> None:
        if not self.files:
            return
        from cc_cleaner.filters.origin_join import task_verdicts

        verdicts, errors = task_verdicts(store, self.ctx.stage, self.name, self.config, task_index)
        self.verdicts = {u: (v[0], v[1]) for u, v in verdicts.items()}
        self.table_errors = Counter(errors)

    def evaluate(self, table: pa.Table) -> Evaluation:
        n = table.num_rows
        col = {c: table[c].to_pylist() if c in table.column_names else [None] * n
               for c in ("url", "rights_signals", "license", "copyright_notice", "rights_known")}
        counters: Counter = Counter({"rights:no_signal": 0, "rights:unknown": 0})  # said even when none
        causes, tagged, reasons = [], [], []
        for i in range(n):
            url, signals = col["url"][i], list(col["rights_signals"][i] or [])
            if self.verdicts is not None:  # in a job: decided by the join
                found, malformed = self.verdicts.get(url or "", ([], 0))
                signals += found
                if malformed:
                    counters["rights_malformed_tdmrep"] += malformed
            else:
                signals += self._tdmrep_signals(url, counters)
            lic, known = col["license"][i], bool(col["rights_known"][i])
            self._count(counters, signals, lic, col["copyright_notice"][i], known)
            cause, reason = self._decide(url, signals, lic)
            if reason is not None and cause.startswith(("header:", "meta:", "tdmrep:")):
                agent = cause.rsplit("@", 1)[1] if "@" in cause else "*"
                counters[f"rights_agent:{agent}"] += 1
            causes.append(cause)
            reasons.append(reason)
            tagged.append(lic is not None and any(fnmatchcase(lic, p) for p in self.config.licenses.tag))
        # The same per part: the max across parts is what the table held (pipeline.stats.merge).
        counters.update({f"max:table_errors:{k}": v for k, v in self.table_errors.items()})
        return Evaluation({"rights_cause": pa.array(causes, pa.string()), "rights_tagged": pa.array(tagged)},
                          reasons, dict(counters))

    def _decide(self, url: str | None, signals: list[str], lic: str | None) -> tuple[str | None, str | None]:
        """(the signal that decided, the drop reason or None)."""
        if self._allowed(url):
            return "allow_list", None
        for sig in signals:
            directive, agent = directive_of(sig)
            if directive in self.config.drop_on and (not agent or agent in self.agents):
                return sig, directive.replace("-", "_")
        if lic is not None:
            for pat in self.config.licenses.drop:
                if fnmatchcase(lic, pat):
                    return f"license:{lic}", "license_dropped"
        return None, None

    def _allowed(self, url: str | None) -> bool:
        if not url or not self.config.allow:
            return False
        host = (urlsplit(url).hostname or "").lower()
        for entry in self.config.allow:
            if entry.startswith("url:"):
                if url.startswith(entry[4:]):
                    return True
            elif host == entry.lower() or host.endswith("." + entry.lower()):
                return True
        return False

    def _tdmrep_signals(self, url: str | None, counters: Counter) -> list[str]:
        if not self.files or not url or not self.tdmrep:
            return []
        entry = self.tdmrep.get(origin(url) or "")
        if entry is None or not 200 <= entry[0] < 300:
            return []
        rules = _parse_tdmrep(entry[1])
        if rules is None:
            counters["rights_malformed_tdmrep"] += 1
            return []
        path = urlsplit(url).path or "/"
        best = max((r for r in rules if _path_matches(r[0], path)), key=lambda r: len(r[0]), default=None)
        if best is None or not best[1]:
            return []
        return ["tdmrep:tdm-reservation"] + ([f"tdmrep:tdm-policy={best[2]}"] if best[2] else [])

    @staticmethod
    def _count(counters: Counter, signals: list[str], lic: str | None, notice: str | None, known: bool) -> None:
        if not known and not signals:
            counters["rights:unknown"] += 1
            return
        kinds = {directive_of(s)[0] for s in signals}
        for k in kinds:
            counters[f"signal:{k}"] += 1
        counters[f"license:{lic or 'none'}"] += 1
        if notice:
            counters["signal:copyright_notice"] += 1
        if not kinds and lic is None and not notice:
            counters["rights:no_signal"] += 1


def directive_of(signal: str) -> tuple[str, str]:
    """("noai", "gptbot") of "meta:noai@gptbot"; ("tdm-policy", "") of "header:tdm-policy=<url>"."""
    rest = signal.partition(":")[2]
    directive, _, agent = rest.partition("@")
    return directive.split("=", 1)[0], agent


@lru_cache(maxsize=4096)
def _parse_tdmrep(body: str) -> tuple[tuple[str, bool, str | None], ...] | None:
    """(location, reserved, policy) rules of a tdmrep.json body; None when it is not valid."""
    try:
        data = json.loads(decode_body(body.encode("utf-8", "surrogatepass")) if isinstance(body, str) else body)
    except ValueError:
        return None
    if not isinstance(data, list):
        return None
    rules = []
    for r in data:
        if not isinstance(r, dict) or not isinstance(r.get("location"), str):
            continue
        reserved = str(r.get("tdm-reservation", "0")).strip() == "1"
        policy = r.get("tdm-policy") if isinstance(r.get("tdm-policy"), str) else None
        rules.append((r["location"], reserved, policy))
    return tuple(rules)


@lru_cache(maxsize=4096)
def _pattern(location: str) -> re.Pattern[str]:
    end = location.endswith("$")
    body = re.escape(location[:-1] if end else location).replace(r"\*", ".*")
    return re.compile(body + ("$" if end else ""))


def _path_matches(location: str, path: str) -> bool:
    if not location.startswith("/"):
        location = "/" + location
    return _pattern(location).match(path) is not None
