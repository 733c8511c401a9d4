"""robots.txt compliance from a crawl's own robots.txt captures (RFC 9309), parsed with protego.

The robots table is a WARC of robots.txt captures (any response whose path is /robots.txt; the
latest capture of each origin wins) or a JSONL/Parquet table with ``url`` or ``host``, ``body``,
``status`` (default 200) and ``fetch_time``. Per RFC 9309 section 2.3.1: a 2xx body is parsed;
4xx ("unavailable") allows everything; 5xx and network errors ("unreachable") disallow
everything; a 3xx capture (redirect not followed in the table) counts as unavailable. An origin
without a capture follows ``missing`` (default allow, as a crawler that got a 404 would).

Before protego sees a body, lines with unknown keys are dropped (RFC 9309 2.2.4: they must not
end a group) and a user-agent value is cut at its first space (a product token has none).
The table is held in each worker's memory (~ body bytes of all origins): split very large crawls
by host range and run one job per range.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any, Literal
from urllib.parse import urlsplit

import pyarrow as pa
from protego import Protego

from cc_cleaner.pipeline.readers import expand_paths
from cc_cleaner.pipeline.step import Evaluation, FilterStep, StepConfig, register

KNOWN_KEYS = {"user-agent", "allow", "disallow", "sitemap", "crawl-delay", "request-rate", "host"}
_LINE = re.compile(r"^\s*([A-Za-z-]+)\s*:\s*(.*)$")


class RobotsConfig(StepConfig):
    table: str | list[str]
    agents: list[str] = ["*", "CCBot", "GPTBot", "Google-Extended"]
    extra_agents: list[str] = []
    missing: Literal["allow", "disallow"] = "allow"
    cache_size: int = 100_000  # parsed robots.txt kept per worker


def origin(url: str | None) -> str | None:
    if not url:
        return None
    try:
        p = urlsplit(url)
        host = (p.hostname or "").lower()
        port = p.port
    except ValueError:
        return None
    if not host:
        return None
    scheme = (p.scheme or "http").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def normalize_robots(body: str) -> str:
    out = []
    for line in body.splitlines():
        content = line.split("#", 1)[0]
        m = _LINE.match(content)
        if not m:
            if content.strip():
                continue  # not a key: value line
            out.append("")
            continue
        key, value = m.group(1).lower(), m.group(2).strip()
        if key not in KNOWN_KEYS:
            continue
        if key == "user-agent" and value:
            value = value.split()[0]
        out.append(f"{key}: {value}")
    return "\n".join(out)


def parse_robots(body: str) -> Protego:
    return Protego.parse(normalize_robots(body))


def load_table(paths: list[str]) -> dict[str, tuple[int, str, str]]:
    """origin -> (status, body, fetch time); the latest capture of an origin wins."""
    table: dict[str, tuple[int, str, str]] = {}

    def put(org: str | None, status: int, body: str, when: str) -> None:
        if org and (org not in table or when >= table[org][2]):
            table[org] = (status, body, when)

    for path in expand_paths(paths):
        if path.endswith((".parquet", ".jsonl", ".jsonl.gz", ".jsonl.zst", ".json.gz")):
            import fsspec
            import pyarrow.json as pj
            import pyarrow.parquet as pq

            with fsspec.open(path, "rb", compression="infer") as f:
                t = pq.read_table(f) if path.endswith(".parquet") else pj.read_json(f)
            for r in t.to_pylist():
                org = origin(r.get("url")) if r.get("url") else origin(f"https://{r.get('host') or ''}")
                put(org, int(r.get("status") or 200), r.get("body") or "", str(r.get("fetch_time") or ""))
        else:
            _load_warc(path, put)
    return table


def _load_warc(path: str, put: Any) -> None:
    import fsspec
    from warcio.archiveiterator import ArchiveIterator

    with fsspec.open(path, "rb") as f:
        for rec in ArchiveIterator(f, arc2warc=True):
            uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
            if rec.rec_type != "response" or urlsplit(uri).path != "/robots.txt":
                continue
            status = int((rec.http_headers.get_statuscode() if rec.http_headers else "") or 0)
            body = rec.content_stream().read(1 << 20).decode("utf-8", "replace")
            put(origin(uri), status, body, rec.rec_headers.get_header("WARC-Date") or "")


@register
class Robots(FilterStep):
    """Drops documents that any configured agent may not fetch; ``robots_disallowed`` lists them."""

    name = "robots"
    Config = RobotsConfig
    config: RobotsConfig

    def setup(self) -> None:
        paths = [self.config.table] if isinstance(self.config.table, str) else list(self.config.table)
        self.table = load_table([self.ctx.resolve(p) for p in paths])
        if not self.table:
            raise ValueError(f"robots table {paths} holds no robots.txt capture")
        self.agents = list(dict.fromkeys(self.config.agents + self.config.extra_agents))
        self._cache: OrderedDict[str, Any] = OrderedDict()

    def rules(self, org: str | None) -> Any:
        """A parsed robots.txt, or True (allow all) / False (disallow all)."""
        if org in self._cache:
            self._cache.move_to_end(org)
            return self._cache[org]
        entry = self.table.get(org) if org else None
        if entry is None:
            rules: Any = self.config.missing == "allow"
        else:
            status, body, _ = entry
            rules = parse_robots(body) if 200 <= status < 300 else (status < 500 and status != 0)
        self._cache[org] = rules
        if len(self._cache) > self.config.cache_size:
            self._cache.popitem(last=False)
        return rules

    def disallowed(self, url: str | None) -> list[str]:
        rules = self.rules(origin(url))
        if rules is True:
            return []
        if rules is False:
            return list(self.agents)
        return [a for a in self.agents if not rules.can_fetch(url, a)]

    def evaluate(self, table: pa.Table) -> Evaluation:
        out, reasons = [], []
        counters: dict[str, int] = {}
        for url in table["url"].to_pylist():
            bad = self.disallowed(url)
            out.append(bad)
            reasons.append("robots_disallowed" if bad else None)
            for a in bad:
                counters[f"agent:{a}"] = counters.get(f"agent:{a}", 0) + 1
            if bad:
                key = f"host:{urlsplit(url).hostname}"
                counters[key] = counters.get(key, 0) + 1
        return Evaluation({"robots_disallowed": pa.array(out, pa.list_(pa.string()))}, reasons, counters)
