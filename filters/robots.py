"""robots.txt compliance from a crawl's own robots.txt captures (RFC 9309), parsed with protego.

The robots table is a WARC of robots.txt captures (any response whose path is /robots.txt; the
latest capture of each origin wins) or a JSONL/Parquet table with ``url`` or ``host``, ``body``,
``status`` (default 200), ``fetch_time`` and optionally ``location``. A row keyed by ``host``
(no scheme) applies to both ``http://host`` and ``https://host``. Per RFC 9309 section 2.3.1: a
2xx body is parsed; 4xx ("unavailable") allows everything; 5xx and network errors
("unreachable") disallow everything; a 3xx capture is followed to its target's capture (up to
five hops, 2.3.1.2) when the table holds one, and counts as unavailable when it does not. An
origin without any capture takes the capture of the same host under the other scheme when there
is one (a crawler redirected from http to https gets that file), else follows ``missing``
(default allow, as a crawler that got a 404 would); such documents are counted in the stats.

Bodies are decoded as a crawler would: a UTF-8/UTF-16 byte-order mark decides, else UTF-8,
else windows-1252; the mark is dropped and CR/CRLF line ends are accepted.

Before protego sees a body, lines with unknown keys are dropped (RFC 9309 2.2.4: they must not
end a group) and a user-agent value is cut at its first space (a product token has none).
In a job the table is joined to the documents by host (``filters.origin_join``): its captures and
the documents' URLs meet in hash partitions, so no worker holds the whole table; a map task gets
the verdicts for its own URLs. Used on its own (``get_step``), the step loads the whole table.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections import Counter, OrderedDict
from typing import Any, ClassVar, Literal
from urllib.parse import urljoin, urlsplit

import idna
import pyarrow as pa
from protego import Protego
from pydantic import Field

from cc_cleaner.pipeline.decode import bom_encoding
from cc_cleaner.pipeline.readers import InputConfig, ReadError, WarcReader, expand_paths
from cc_cleaner.pipeline.step import Evaluation, FilterStep, StepConfig, register

KNOWN_KEYS = {"user-agent", "allow", "disallow", "sitemap", "crawl-delay", "request-rate", "host"}
_LINE = re.compile(r"^\s*([A-Za-z-]+)\s*:\s*(.*)$")


class RobotsConfig(StepConfig):
    table: str | list[str]
    agents: list[str] = ["*", "CCBot", "GPTBot", "Google-Extended"]
    extra_agents: list[str] = []
    missing: Literal["allow", "disallow"] = "allow"
    cache_size: int = 100_000  # parsed robots.txt kept per worker
    partitions: int = Field(default=16, gt=0)  # of the join of the table with the documents' URLs


def origin(url: str | None) -> str | None:
    """``scheme://host[:port]`` as one key for every way a URL writes it: case, default port, a
    trailing dot, and an international host in Unicode or as punycode (UTS 46, as browsers)."""
    if not url:
        return None
    try:
        p = urlsplit(url)
        host = (p.hostname or "").lower().rstrip(".")
        port = p.port
    except ValueError:
        return None
    if not host:
        return None
    if not host.isascii():
        with contextlib.suppress(idna.IDNAError):  # (not a valid international name: as written)
            host = idna.encode(host, uts46=True).decode("ascii")
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


@functools.lru_cache(maxsize=1024)
def parse_robots(body: str) -> Protego:
    """The parsed rules of a robots.txt body. Hosts of one platform serve the same file, so a
    parse is shared by equal bodies (a parsed file's answers depend on its text alone: protego
    keeps only a memo of the rule set each agent matches)."""
    return Protego.parse(normalize_robots(body.lstrip("\ufeff")))


def decode_body(raw: bytes) -> str:
    """robots.txt bytes as text: BOM, else UTF-8, else windows-1252 (never an exception)."""
    bom = bom_encoding(raw)
    if bom:
        return raw[bom[1]:].decode(bom[0], "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


Entry = tuple[int, str, str, str]  # (status, body, fetch time, redirect location)


def load_table(paths: list[str], errors: Counter | None = None, path: str = "/robots.txt") -> dict[str, Entry]:
    """origin -> (status, body, fetch time, location) of the captures of ``path`` (robots.txt, or
    another origin-wide file such as /.well-known/tdmrep.json); the latest capture wins.

    Unreadable records and files are counted per kind in ``errors`` (the captures around them
    still load)."""
    table: dict[str, Entry] = {}
    errors = Counter() if errors is None else errors

    def put(org: str | None, status: int, body: str, when: str, location: str = "") -> None:
        if org and (org not in table or when >= table[org][2]):
            table[org] = (status, body, when, location)

    for file in expand_paths(paths):
        if file.endswith((".parquet", ".jsonl", ".jsonl.gz", ".jsonl.zst", ".json.gz")):
            import fsspec
            import pyarrow.json as pj
            import pyarrow.parquet as pq

            try:
                with fsspec.open(file, "rb", compression="infer") as f:
                    t = pq.read_table(f) if file.endswith(".parquet") else pj.read_json(f)
            except (OSError, ValueError, pa.ArrowException) as e:
                errors[f"unreadable_file:{type(e).__name__}"] += 1
                continue
            for r in t.to_pylist():
                body = r.get("body") or ""
                if isinstance(body, bytes):
                    body = decode_body(body)
                args = (int(r.get("status") or 200), body, str(r.get("fetch_time") or ""), r.get("location") or "")
                if r.get("url"):
                    put(origin(r["url"]), *args)
                else:  # a host without a scheme: the file serves both schemes
                    for scheme in ("http", "https"):
                        put(origin(f"{scheme}://{r.get('host') or ''}"), *args)
        else:
            _load_warc(file, put, errors, path)
    return table


def _load_warc(file: str, put: Any, errors: Counter, path: str) -> None:
    """Responses for ``path`` in a WARC, read by the pipeline's reader (corrupt records skipped)."""
    for item in WarcReader(file, InputConfig(format="warc", paths=[file]), "").records():
        if isinstance(item, ReadError):
            errors[item.error] += 1
            continue
        rec = item[0]
        uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
        if rec.rec_type != "response" or urlsplit(uri).path != path:
            continue
        try:
            status = int((rec.http_headers.get_statuscode() if rec.http_headers else "") or 0)
        except ValueError:
            errors["malformed_http"] += 1
            continue
        body = decode_body(rec.content_stream().read(1 << 20))
        location = (rec.http_headers.get_header("Location") or "") if rec.http_headers else ""
        put(origin(uri), status, body, rec.rec_headers.get_header("WARC-Date") or "", urljoin(uri, location))


@register
class Robots(FilterStep):
    """Drops documents that any configured agent may not fetch; ``robots_disallowed`` lists them."""

    name = "robots"
    needs = frozenset({"url"})
    adds = frozenset({"robots_disallowed"})
    Config = RobotsConfig
    config: RobotsConfig

    path: ClassVar[str] = "/robots.txt"

    def setup(self) -> None:
        self.files = expand_paths(self.table_paths(self.config, self.ctx))  # a missing table fails here
        self.table_errors: Counter = Counter()
        self._table: dict[str, Entry] | None = None
        self.verdicts: dict[str, tuple[list[str], str]] | None = None  # a map task's, from the join
        self.agents = list(dict.fromkeys(self.config.agents + self.config.extra_agents))
        self._cache: OrderedDict[str, Any] = OrderedDict()

    @staticmethod
    def table_paths(config: RobotsConfig, ctx: Any) -> list[str]:
        paths = [config.table] if isinstance(config.table, str) else list(config.table)
        return [ctx.resolve(p) for p in paths]

    @property
    def table(self) -> dict[str, Entry]:
        """The whole table, loaded on first use: only when the step runs outside a job's join."""
        if self._table is None:
            self._table = load_table(self.files, self.table_errors, self.path)
            if not self._table:
                raise ValueError(f"robots table {self.config.table} holds no robots.txt capture")
        return self._table

    @table.setter
    def table(self, value: dict[str, Entry]) -> None:
        self._table = value

    @classmethod
    def join_phases(cls, config: Any, ctx: Any, store: Any, tasks: list[Any]) -> Any:
        from cc_cleaner.filters.origin_join import join_phases

        files = expand_paths(cls.table_paths(config, ctx))
        return join_phases(cls.name, config, ctx, store, tasks, files, cls.path, config.partitions, redirects=True)

    def join_decide(self, table: dict[str, Entry], urls: list[str]) -> dict[str, Any]:
        """In the join: each URL's (disallowed agents, how its capture was found), given the
        captures of its partition (and the redirect targets it fetched)."""
        self.table = table
        return {u: list(self._disallowed(u)) for u in urls}

    def start_task(self, store: Any, task_index: int) -> None:
        from cc_cleaner.filters.origin_join import task_verdicts

        verdicts, errors = task_verdicts(store, self.ctx.stage, self.name, self.config, task_index)
        self.verdicts = {u: (v[0], v[1]) for u, v in verdicts.items()}
        self.table_errors = Counter(errors)

    def capture(self, org: str | None) -> tuple[Entry | None, str]:
        """The capture that speaks for an origin and how it was found: ``origin``, ``redirect``,
        ``other_scheme`` or ``none``."""
        if not org:
            return None, "none"
        how = "origin"
        entry = self.table.get(org)
        if entry is None:
            scheme, rest = org.split("://", 1)
            entry = self.table.get(("https" if scheme == "http" else "http") + "://" + rest.split(":", 1)[0])
            how = "other_scheme" if entry is not None else "none"
        for _ in range(5):  # RFC 9309 2.3.1.2: follow at least five redirects
            if entry is None or not 300 <= entry[0] < 400 or not entry[3]:
                break
            target = self.table.get(origin(entry[3]))
            if target is None or urlsplit(entry[3]).path != "/robots.txt":
                break
            entry, how = target, "redirect"
        return entry, how

    def rules(self, org: str | None) -> tuple[Any, str]:
        """(a parsed robots.txt, or True (allow all) / False (disallow all); how it was found)."""
        if org in self._cache:
            self._cache.move_to_end(org)
            return self._cache[org]
        entry, how = self.capture(org)
        if entry is None:
            rules: Any = self.config.missing == "allow"
        else:
            status, body = entry[0], entry[1]
            # 4xx: no robots.txt, allow; 5xx: unreachable, disallow. 429 (too many requests) says
            # nothing about the file, only that it was not served: unreachable, as Google reads it.
            rules = parse_robots(body) if 200 <= status < 300 else (status < 500 and status not in (0, 429))
        self._cache[org] = (rules, how)
        if len(self._cache) > self.config.cache_size:
            self._cache.popitem(last=False)
        return rules, how

    def disallowed(self, url: str | None) -> list[str]:
        return self._disallowed(url)[0]

    def _disallowed(self, url: str | None) -> tuple[list[str], str]:
        if self.verdicts is not None:  # in a job: decided by the join, where the table's partition was
            org = origin(url)
            if org is not None:
                return self.verdicts[url]
            return self._apply(self.config.missing == "allow", url), "none"
        rules, how = self.rules(origin(url))
        return self._apply(rules, url), how

    def _apply(self, rules: Any, url: str | None) -> list[str]:
        if rules is True:
            return []
        if rules is False:
            return list(self.agents)
        return [a for a in self.agents if not rules.can_fetch(url, a)]

    def evaluate(self, table: pa.Table) -> Evaluation:
        out, reasons = [], []
        counters: dict[str, int] = {}
        for url in table["url"].to_pylist():
            bad, how = self._disallowed(url)
            if how != "origin":  # no capture of this origin: say how it was decided
                key = f"capture:{how}" if how != "none" else f"capture:none_{self.config.missing}"
                counters[key] = counters.get(key, 0) + 1
            out.append(bad)
            reasons.append("robots_disallowed" if bad else None)
            for a in bad:
                counters[f"agent:{a}"] = counters.get(f"agent:{a}", 0) + 1
            if bad:
                key = f"host:{urlsplit(url).hostname}"
                counters[key] = counters.get(key, 0) + 1
        # The same per part: the max across parts is what the table held (pipeline.stats.merge).
        counters.update({f"max:table_errors:{k}": v for k, v in self.table_errors.items()})
        return Evaluation({"robots_disallowed": pa.array(out, pa.list_(pa.string()))}, reasons, counters)
