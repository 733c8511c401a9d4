"""Machine-readable rights signals of a web page, read from its HTTP headers and raw HTML.

Read during extraction, while the markup is still there (``extract`` adds the columns):

* AI and indexing directives: ``X-Robots-Tag`` headers and ``<meta name="robots">`` or
  ``<meta name="<agent>">`` tags: ``noai``, ``noimageai``, ``noindex``, ``none``, optionally for
  one agent (``X-Robots-Tag: GPTBot: noai``). Kept as ``where:directive[@agent]``.
* TDM reservations (W3C TDMRep): ``tdm-reservation: 1`` and ``tdm-policy`` as headers or
  ``<meta name="tdm-reservation">``/``<meta name="tdm-policy">``; the origin-wide
  ``/.well-known/tdmrep.json`` is joined later by the ``rights`` step.
* A declared licence, mapped to an SPDX id: ``<link rel="license">``, ``<a rel="license">``, an
  HTTP ``Link: <...>; rel="license"``, JSON-LD or RDFa ``license`` fields, ``<meta
  name="dcterms.license">``. Creative Commons links without such markup are only *mentioned*
  licences (a page citing a CC photo is not itself CC-licensed).
* A copyright notice ("© 2024 ...", "All rights reserved", "版权所有") is kept as evidence; it
  never becomes a licence.

Malformed values are ignored and counted (``malformed``), never an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html import unescape

import pyarrow as pa

DIRECTIVES = frozenset({"noai", "noimageai", "noindex", "none"})
# What extraction adds to every document (rights_known: false when its input had no headers
# and no HTML to read, as JSONL text has: the signals are unknown, not absent).
RIGHTS_COLUMNS = ("rights_signals", "license", "license_evidence", "licenses_mentioned", "copyright_notice",
                  "rights_known")

_META_LINK = re.compile(r"""<([mM][eE][tT][aA]|[lL][iI][nN][kK])\b((?:[^>"']|"[^"]*"|'[^']*')*)>""")  # ">" in quotes
_BODY = re.compile(r"<[bB][oO][dD][yY]\b")
# Where a copyright notice can start ("opyright" finds Copyright and copyright; the match backs up a
# letter). Needles are (anchor, variants): every variant holds its anchor, and one scan for the
# anchor finds them all (each scan reads the whole page, about a third of a nanosecond a character).
_NOTICE_START = (("©", ("©",)), ("&copy;", ("&copy;",)), ("opyright", ("opyright",)), ("OPYRIGHT", ("OPYRIGHT",)),
                 ("版权所有", ("版权所有",)), ("著作権", ("著作権",)))
# "All rights reserved" alone, where the page has no notice of the kinds above.
_RESERVED = (("eserved", ("ights reserved", "ights Reserved")), ("IGHTS RESERVED", ("IGHTS RESERVED",)))
_LICENSE = (("icense", ("license", "License")), ("LICENSE", ("LICENSE",)))
_JSON_LD = (("+JSON", ("LD+JSON", "ld+JSON")),)  # (ld+json is one scan of its own)
_CREATIVE_COMMONS = (("ommons.org", ("creativecommons.org", "CreativeCommons.org", "creativeCommons.org")),)
_KEYWORDS = ("robots", "tdm-", "license", "rights", "bot", "-ai", "google-extended")
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_JSONLD = re.compile(r"""<script[^>]+application/ld\+json[^>]*>(.*?)</script>""", re.I | re.S)
_RDFA = re.compile(r"""<[^>]+(?:property|rel)\s*=\s*["'](?:[^"']*\s)?(?:cc|dc|dcterms|schema):license(?:\s[^"']*)?["']"""
                   r"""[^>]*>""", re.I)  # matched against one tag
_CC = re.compile(r"creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/(\d\.\d)", re.I)  # (spdx uses search)
_NOTICE = re.compile(r"(?:©|&copy;|\(c\)|copyright)\s*(?:&nbsp;|\s)*(?:\d{4}(?:\s*[-–]\s*\d{4})?)[^<\n]{0,80}"
                     r"|all rights reserved|版权所有|著作権", re.I)
_LINK_HEADER = re.compile(r"<([^>]+)>\s*;[^,]*\brel\s*=\s*\"?[^\",]*\blicense\b", re.I)
_SPDX_URLS = (  # other common licence URLs -> SPDX ids
    (re.compile(r"gnu\.org/(?:licenses|copyleft)/fdl", re.I), "GFDL-1.3-or-later"),
    (re.compile(r"opensource\.org/licenses/mit", re.I), "MIT"),
    (re.compile(r"apache\.org/licenses/license-2\.0", re.I), "Apache-2.0"),
    (re.compile(r"opendatacommons\.org/licenses/odbl", re.I), "ODbL-1.0"),
)


@dataclass
class Signals:
    directives: list[str] = field(default_factory=list)  # "header:noai@gptbot", "meta:noindex"
    license: str | None = None  # SPDX id of the declared licence (the most restrictive if several)
    license_evidence: str | None = None  # http-link | link | json-ld | rdfa | meta | a
    licenses_mentioned: list[str] = field(default_factory=list)  # other licences the page names
    copyright_notice: str | None = None
    malformed: int = 0
    declared: list[tuple[str, str]] = field(default_factory=list)  # (SPDX id, evidence)
    mentioned: set[str] = field(default_factory=set)

    def settle(self) -> None:
        """Pick the licence: of those declared, the most restrictive (then the strongest evidence)."""
        order = {"http-link": 0, "link": 1, "json-ld": 2, "rdfa": 3, "meta": 4, "a": 5}
        if self.declared:
            self.license, self.license_evidence = min(self.declared, key=lambda d: (-restrictiveness(d[0]),
                                                                                    order[d[1]]))
        self.licenses_mentioned = sorted(({d[0] for d in self.declared} | self.mentioned) - {self.license})
        self.directives = sorted(set(self.directives))


def restrictiveness(spdx_id: str) -> int:
    """How much a licence restricts reuse: CC0/public domain 0, BY 1, SA 2, NC 3, ND 4 (summed)."""
    parts = set(spdx_id.upper().split("-"))
    if spdx_id.startswith(("CC0", "LicenseRef-PDM")):
        return 0
    return 1 + 2 * ("SA" in parts) + 3 * ("NC" in parts) + 4 * ("ND" in parts)


def spdx(url: str) -> str | None:
    """An SPDX id for a licence URL (Creative Commons, GFDL, MIT, Apache, ODbL), else None."""
    m = _CC.search(url)
    if m:
        kind, name, version = m.group(1).lower(), m.group(2).lower(), m.group(3)
        if kind == "publicdomain":
            return {"zero": f"CC0-{version}", "mark": "LicenseRef-PDM-1.0"}.get(name)
        parts = name.split("-")
        if not set(parts) <= {"by", "sa", "nc", "nd"} or "by" not in parts:
            return None
        return "CC-" + "-".join(p.upper() for p in parts) + f"-{version}"
    return next((sid for pat, sid in _SPDX_URLS if pat.search(url)), None)


def robots_directives(value: str, where: str, agent: str | None = None) -> tuple[list[str], int]:
    """Directives of an X-Robots-Tag value or a robots meta content ("GPTBot: noai, noimageai")."""
    out, bad = [], 0
    value = value.strip()
    m = re.match(r"^([A-Za-z][\w.-]*)\s*:\s*(.+)$", value)
    if m and m.group(1).lower() not in {"max-snippet", "max-image-preview", "max-video-preview",
                                        "unavailable_after"}:
        agent, value = m.group(1), m.group(2)
    for token in value.split(","):
        token = token.strip().lower()
        if not token:
            continue
        if not re.fullmatch(r"[a-z][\w-]*(?:\s*:\s*\S+)?", token):
            bad += 1
            continue
        if token in DIRECTIVES:
            out.append(f"{where}:{token}" + (f"@{agent.lower()}" if agent and agent.lower() != "robots" else ""))
    return out, bad


def _tdm(name: str, value: str, where: str) -> tuple[list[str], int]:
    value = value.strip()
    if name == "tdm-reservation":
        if value in ("1", "0"):
            return ([f"{where}:tdm-reservation"] if value == "1" else []), 0
        return [], 1
    if name == "tdm-policy":
        return ([f"{where}:tdm-policy={value}"], 0) if value.startswith(("http://", "https://", "/")) else ([], 1)
    return [], 0


def header_signals(headers: str | None, sig: Signals) -> None:
    """Signals of the rights-related HTTP headers (``name: value`` lines)."""
    for line in (headers or "").splitlines():
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "x-robots-tag":
            found, bad = robots_directives(value, "header")
        elif name in ("tdm-reservation", "tdm-policy"):
            found, bad = _tdm(name, value, "header")
        elif name == "link":
            m = _LINK_HEADER.search(value)
            if m and (sid := spdx(m.group(1))):
                sig.declared.append((sid, "http-link"))
            continue
        else:
            continue
        sig.directives += found
        sig.malformed += bad


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1).lower(): unescape(m.group(2) or m.group(3) or m.group(4) or "")
            for m in _ATTR.finditer(text)}


def _positions(html: str, needles: tuple[tuple[str, tuple[str, ...]], ...], per_variant: int = 5) -> list[int]:
    """Where the variants of ``needles`` (anchor, variants) occur, up to ``per_variant`` each, in
    page order: the positions a search for each variant would give."""
    out = []
    for anchor, variants in needles:
        at = [v.index(anchor) for v in variants]
        counts = [0] * len(variants)
        i = html.find(anchor)
        while i >= 0:
            for k, v in enumerate(variants):
                if counts[k] < per_variant and i >= at[k] and html.startswith(v, i - at[k]):
                    out.append(i - at[k])
                    counts[k] += 1
            if min(counts) >= per_variant:
                break
            i = html.find(anchor, i + 1)
    return sorted(out)


def _enclosing_tag(html: str, i: int) -> str:
    """The tag around position ``i`` ("" when ``i`` is in text, not inside a tag)."""
    start, end = html.rfind("<", max(0, i - 2000), i), html.find(">", i, i + 2000)
    if start < 0 or end < 0 or ">" in html[start:i]:
        return ""
    return html[start:end + 1]


def html_signals(html: str | None, sig: Signals) -> None:
    if not html:
        return
    declared: list[tuple[str, str]] = []  # (evidence, url)
    body = _BODY.search(html)
    head_end = body.start() if body else len(html)  # robots/TDM meta tags and licence links live in <head>
    for m in _META_LINK.finditer(html, 0, head_end):
        text = m.group(0).lower()
        if not any(k in text for k in _KEYWORDS):
            continue
        tag, a = m.group(1).lower(), _attrs(m.group(2))
        if tag == "meta":
            name, content = a.get("name", "").strip().lower(), a.get("content", "")
            if name in ("tdm-reservation", "tdm-policy"):
                found, bad = _tdm(name, content, "meta")
            elif name in ("dcterms.license", "dc.rights", "dc.license"):
                declared.append(("meta", content))
                continue
            elif name and content and (name == "robots" or _agent_name(name)):
                found, bad = robots_directives(content, "meta", name)
            else:
                continue
            sig.directives += found
            sig.malformed += bad
        elif "license" in a.get("rel", "").lower().split():
            declared.append(("link", a.get("href", "")))
    json_ld = "ld+json" in html or bool(_positions(html, _JSON_LD, 1))
    # Tags that mention a licence, found from the word rather than by scanning every tag.
    for tag in {_enclosing_tag(html, i) for i in _positions(html, _LICENSE, 50)} - {""}:
        a = _attrs(tag)
        if tag[:2].lower() == "<a" and "license" in a.get("rel", "").lower().split():
            declared.append(("a", a.get("href", "")))
        elif _RDFA.match(tag):
            declared.append(("rdfa", a.get("resource") or a.get("href") or a.get("content") or ""))
    if json_ld:
        for m in _JSONLD.finditer(html):
            try:
                declared += [("json-ld", u) for u in _jsonld_licenses(json.loads(m.group(1)))]
            except (ValueError, RecursionError):
                sig.malformed += 1
    sig.declared += [(sid, evidence) for evidence, url in declared if (sid := spdx(url))]
    cc = _positions(html, _CREATIVE_COMMONS, 50)
    sig.mentioned = {s for i in cc if (m := _CC.match(html, i)) and (s := spdx(m.group(0)))}
    sig.copyright_notice = _notice(html, _NOTICE_START, "c") or _notice(html, _RESERVED, "all r")


def _notice(html: str, needles: tuple[tuple[str, tuple[str, ...]], ...], lead: str) -> str | None:
    """The first copyright notice that starts at one of ``needles``, or ``lead`` (any case) before
    it: the notice regex only where one can start (the C of copyright, the "all r" before "ights
    reserved")."""
    for at in _positions(html, needles, 3):
        start = at - len(lead) if at >= len(lead) and html[at - len(lead):at].lower() == lead else at
        notice = _NOTICE.match(html, start)
        if notice:
            return " ".join(unescape(notice.group(0)).split())[:120]
    return None


def _agent_name(name: str) -> bool:
    """A meta name that names a crawler (gptbot, ccbot, google-extended, ...), not a page field."""
    return bool(re.fullmatch(r"[a-z][a-z0-9-]*bot|google-extended|[a-z]+-ai|anthropic-ai|ccbot", name))


def _jsonld_licenses(obj: object, depth: int = 0) -> list[str]:
    if depth > 8:
        return []
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k.lower() == "license":
                out += [v] if isinstance(v, str) else [x.get("@id", "") if isinstance(x, dict) else str(x)
                                                       for x in (v if isinstance(v, list) else [v])]
            else:
                out += _jsonld_licenses(v, depth + 1)
    elif isinstance(obj, list):
        for v in obj:
            out += _jsonld_licenses(v, depth + 1)
    return [u for u in out if isinstance(u, str)]


def page_signals(html: str | None, headers: str | None) -> Signals:
    """Every signal of one page: headers first, then the HTML (the stricter of both applies)."""
    sig = Signals()
    header_signals(headers, sig)
    html_signals(html, sig)
    sig.settle()
    return sig


def rights_table(htmls: list[str | None], headers: list[str | None] | None) -> tuple[pa.Table, int]:
    """The rights columns for a batch of pages (``headers`` None: the input carried none), and how
    many malformed values were ignored."""
    sigs = [page_signals(h, headers[i] if headers is not None else None) for i, h in enumerate(htmls)]
    return pa.table({
        "rights_signals": pa.array([s.directives for s in sigs], pa.list_(pa.string())),
        "license": pa.array([s.license for s in sigs], pa.string()),
        "license_evidence": pa.array([s.license_evidence for s in sigs], pa.string()),
        "licenses_mentioned": pa.array([s.licenses_mentioned for s in sigs], pa.list_(pa.string())),
        "copyright_notice": pa.array([s.copyright_notice for s in sigs], pa.string()),
        "rights_known": pa.array([True] * len(sigs), pa.bool_()),
    }), sum(s.malformed for s in sigs)
