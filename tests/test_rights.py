"""Rights signals (AI/TDM reservations, licences, notices) and the rights step's policy."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pytest

from cc_cleaner.filters.rights import _parse_tdmrep, _path_matches
from cc_cleaner.filters.rights_signals import page_signals, restrictiveness, spdx
from cc_cleaner.jobs.report import load_report, reconcile
from cc_cleaner.pipeline.step import StepContext, get_step

from conftest import cli, shared_path
from helpers import write_warc

CC = "https://creativecommons.org/licenses/{}/4.0/"


@pytest.mark.parametrize("url, sid", [
    ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
    ("http://creativecommons.org/licenses/by-sa/3.0/deed.an", "CC-BY-SA-3.0"),
    ("//creativecommons.org/licenses/by-nc-nd/2.5/cn/", "CC-BY-NC-ND-2.5"),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
    ("https://creativecommons.org/publicdomain/mark/1.0/", "LicenseRef-PDM-1.0"),
    ("https://www.gnu.org/licenses/fdl-1.3.html", "GFDL-1.3-or-later"),
    ("https://opensource.org/licenses/MIT", "MIT"),
    ("https://creativecommons.org/licenses/", None),
    ("https://creativecommons.org/licenses/sampling+/1.0/", None),
    ("https://example.com/terms", None),
])
def test_licence_urls_map_to_spdx(url, sid):
    assert spdx(url) == sid


def test_every_signal_form_is_read():
    html = f"""<html><head>
    <meta name="robots" content="noindex, follow"><meta name="GPTBot" content="noai, noimageai">
    <meta name="tdm-reservation" content="1"><meta name="tdm-policy" content="https://ex.org/policy.json">
    <meta name="dcterms.license" content="{CC.format('by-sa')}">
    <script type="application/ld+json">{{"@graph": [{{"@type": "Article", "license": "{CC.format('by')}"}}]}}</script>
    </head><body class="tdm-header"><div class="tdm-menu">menu</div>
    <span property="dc:license" resource="{CC.format('by-nc')}"></span>
    <a rel="license noopener" href="{CC.format('by-nc-nd')}">licence</a>
    <img src="x.jpg"> Photo: <a href="https://creativecommons.org/licenses/by-sa/2.0/">CC BY-SA 2.0</a>
    <footer>&copy; 2019-2024 Example Press Ltd. All rights reserved.</footer></body></html>"""
    headers = "X-Robots-Tag: googlebot: noai\nX-Robots-Tag: none\nTDM-Reservation: 1"
    s = page_signals(html, headers)
    assert s.directives == ["header:noai@googlebot", "header:none", "header:tdm-reservation", "meta:noai@gptbot",
                            "meta:noimageai@gptbot", "meta:noindex", "meta:tdm-policy=https://ex.org/policy.json",
                            "meta:tdm-reservation"]
    # Of the declared licences, the most restrictive; the others and a photo credit are mentions.
    assert (s.license, s.license_evidence) == ("CC-BY-NC-ND-4.0", "a")
    assert s.licenses_mentioned == ["CC-BY-4.0", "CC-BY-NC-4.0", "CC-BY-SA-2.0", "CC-BY-SA-4.0"]
    assert s.copyright_notice == "© 2019-2024 Example Press Ltd. All rights reserved."  # evidence only
    assert s.malformed == 0
    assert restrictiveness("CC0-1.0") < restrictiveness("CC-BY-4.0") < restrictiveness("CC-BY-SA-4.0") \
        < restrictiveness("CC-BY-NC-4.0") < restrictiveness("CC-BY-ND-4.0")


@pytest.mark.parametrize(("footer", "notice"), [
    ("&copy; 2019 Example Ltd. All rights reserved.", "© 2019 Example Ltd. All rights reserved."),
    ("© Example Ltd. All Rights Reserved.", "All Rights Reserved"),  # no year: the reservation alone
    ("ALL RIGHTS RESERVED", "ALL RIGHTS RESERVED"),
    ("Copyright Example Ltd.", None), ("Human rights reserved for all", None), ("版权所有 © 示例", "版权所有"),
])
def test_copyright_notice_forms(footer, notice):
    assert page_signals(f"<html><body><p>Text.</p><footer>{footer}</footer></body></html>", None).copyright_notice \
        == notice


def test_malformed_values_are_ignored_and_counted():
    html = """<meta name="tdm-reservation" content="yes please"><meta name="tdm-policy" content="not a url">
    <meta name="robots" content="noai;; <script>"><script type="application/ld+json">{"license": </script>"""
    s = page_signals(html, "X-Robots-Tag: !!!\nTDM-Reservation: maybe\nLink: <nonsense>; rel=license")
    assert s.directives == [] and s.license is None
    assert s.malformed == 6
    assert page_signals(None, None).directives == [] and page_signals("", "").license is None
    # Only a notice: never taken for a licence.
    assert page_signals("<p>All rights reserved.</p>", None).license is None


def test_tdmrep_patterns_most_specific_wins():
    rules = _parse_tdmrep(json.dumps([
        {"location": "/*", "tdm-reservation": 1, "tdm-policy": "https://p.example/policy.json"},
        {"location": "/open/*", "tdm-reservation": 0},
        {"location": "/open/secret.html$", "tdm-reservation": 1},
        {"location": 5}, "junk"]))
    assert len(rules) == 3

    def reserved(path: str) -> bool:
        best = max((r for r in rules if _path_matches(r[0], path)), key=lambda r: len(r[0]))
        return best[1]

    assert reserved("/news/a.html") and not reserved("/open/a.html") and reserved("/open/secret.html")
    assert not reserved("/open/secret.html.bak") or _path_matches("/open/*", "/open/secret.html.bak")
    assert _parse_tdmrep("{not json") is None and _parse_tdmrep('{"location": "/"}') is None


def _table(rows: list[dict]) -> pa.Table:
    cols = ("id", "text", "url", "source", "rights_signals", "license", "copyright_notice", "rights_known")
    return pa.table({c: [r.get(c) for r in rows] for c in cols},
                    schema=pa.schema([("id", pa.string()), ("text", pa.string()), ("url", pa.string()),
                                      ("source", pa.string()), ("rights_signals", pa.list_(pa.string())),
                                      ("license", pa.string()), ("copyright_notice", pa.string()),
                                      ("rights_known", pa.bool_())]))


def test_policy_agents_licences_allow_list_and_unknown(tmp_path):
    def doc(i: int, url: str, signals: list[str] | None = None, lic: str | None = None, known: bool = True) -> dict:
        return {"id": str(i), "text": "t", "url": url, "source": "s", "rights_signals": signals or [],
                "license": lic, "rights_known": known}

    t = _table([
        doc(0, "https://a.example/x", ["header:noai"]),
        doc(1, "https://a.example/y", ["meta:noai@otherbot"]),  # not one of our agents: kept
        doc(2, "https://a.example/z", ["meta:noai@gptbot"]),
        doc(3, "https://b.example/x", ["header:noindex"]),  # counted, not a drop by default
        doc(4, "https://b.example/y", [], "CC-BY-ND-4.0"),
        doc(5, "https://b.example/z", [], "CC-BY-NC-4.0"),
        doc(6, "https://licensed.example/p", ["header:noai"]),  # the user licensed this source
        doc(7, "https://c.example/q", [], None, known=False),  # JSONL text: unknown, not absent
        doc(8, "https://c.example/r"),
    ])
    step = get_step("rights", {"licenses": {"drop": ["*-ND-*"], "tag": ["*-NC-*"]}, "allow": ["licensed.example"]},
                    StepContext(base_dir=str(tmp_path)))
    res = step.process(t)
    assert dict(zip(res.rejected["id"].to_pylist(), res.rejected["reason"].to_pylist(), strict=True)) == \
        {"0": "noai", "2": "noai", "4": "license_dropped"}
    assert res.rejected.filter(pa.compute.equal(res.rejected["id"], "2"))["rights_cause"][0].as_py() == \
        "meta:noai@gptbot"
    kept = {r["id"]: r for r in res.kept.to_pylist()}
    assert kept["5"]["rights_tagged"] and not kept["8"]["rights_tagged"]
    assert kept["6"]["rights_cause"] == "allow_list"
    c = res.counters
    assert c["rights:unknown"] == 1 and c["rights:no_signal"] == 1 and c["signal:noai"] == 4
    assert c["license:CC-BY-ND-4.0"] == 1 and c["rights_agent:gptbot"] == 1 and c["rights_agent:*"] == 1
    # A stricter policy: noindex drops too.
    strict = get_step("rights", {"drop_on": ["noai", "tdm-reservation", "noindex"]}, StepContext())
    assert "noindex" in strict.process(t).rejected["reason"].to_pylist()


def test_signals_in_real_pages_and_warc_headers(tmp_path):
    """Real pages: licence links are found where the page declares one, a notice never becomes a
    licence, theme class names (tdm-header) are not TDM signals; real WARC files go through
    extraction with their headers read."""
    root = shared_path("html_extraction")
    pages = sorted(root.rglob("*.html.gz"))
    assert len(pages) > 1000
    found, notices, directives = {}, 0, set()
    for p in pages:
        s = page_signals(gzip.decompress(p.read_bytes()).decode("utf-8", "replace"), None)
        if s.license:
            found[p.name] = (s.license, s.license_evidence)
        notices += bool(s.copyright_notice)
        directives.update(d.split("@")[0] for d in s.directives)
        assert "meta:tdm-reservation" not in s.directives
    assert len(found) >= 10 and all(sid.startswith(("CC", "GFDL", "LicenseRef")) for sid, _ in found.values())
    assert notices > 300 and "meta:noindex" in directives
    warcs = [shared_path("warc", "commoncrawl_whirlwind", "whirlwind.warc.gz"),
             shared_path("warc", "dolma", "sample-0000.warc.gz"), shared_path("warc", "pywb", "iana.warc.gz")]
    job = {"name": "r", "output": str(tmp_path / "out"), "input": {"format": "warc", "paths": [str(w) for w in warcs]},
           "stages": [{"name": "x", "steps": ["extract", "rights"]}]}
    (tmp_path / "job.yaml").write_text(json.dumps(job))
    cli("run", str(tmp_path / "job.yaml"), "--quiet")
    st = load_report(str(tmp_path / "out"))["stages"][0]
    rights = next(s for s in st["steps"] if s["name"] == "rights")
    assert rights["docs_in"] >= 30 and rights["counters"]["rights:unknown"] == 0
    assert sum(v for k, v in rights["counters"].items() if k.startswith("license:")) == rights["docs_in"]


def test_needle_positions_are_each_variants_own():
    """One scan per anchor finds what a search for each variant finds (up to the limit of each,
    overlaps included), on real pages and on crowded, overlapping and truncated forms."""
    from cc_cleaner.filters import rights_signals as rs

    def per_variant(html: str, needles: tuple, limit: int) -> list[int]:
        out = []
        for v in (v for _, variants in needles for v in variants):
            i, n = html.find(v), 0
            while i >= 0 and n < limit:
                out.append(i)
                i, n = html.find(v, i + 1), n + 1
        return sorted(out)

    root = shared_path("html_extraction")
    pages = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in sorted(root.rglob("*.html.gz"))]
    pages += ["licenselicense License LICENSELICENSE icense", "ights reservedights Reserved eserved reserved",
              "CreativeCommons.org creativeCommons.orgcreativecommons.org Commons.org ommons.org",
              "ld+JSON LD+JSON d+JSON +JSON", "©©&copy;&copy; Copyright COPYRIGHT 版权所有著作権" * 20, "", "ommons.or"]
    found = 0
    for html in pages:
        for needles, limit in ((rs._LICENSE, 50), (rs._CREATIVE_COMMONS, 50), (rs._NOTICE_START, 3), (rs._RESERVED, 3), (rs._JSON_LD, 1)):
            got = rs._positions(html, needles, limit)
            assert got == per_variant(html, needles, limit), (needles, html[:200])
            found += len(got)
    assert found > 5_000, found


def test_headers_reach_the_step_through_a_warc(tmp_path):
    body = "<html><head><title>t</title></head><body>" + "<p>A sentence about the sea and ships.</p>" * 20
    pages = [("https://h.example/a", (body + "</body></html>").encode(), "text/html")]
    write_warc(tmp_path / "a.warc.gz", pages)
    from cc_cleaner.pipeline.readers import InputConfig, read_file

    (row,) = [r for r in read_file(str(tmp_path / "a.warc.gz"), InputConfig(format="warc", paths=["x"]), "s")
              if isinstance(r, dict)]
    assert row["headers"] == ""  # read, and none of the rights headers present: known absent


def test_quickstart_rights_counts_report_and_licence_tokens(quickstart_out: Path, tmp_path: Path):
    rep = load_report(str(quickstart_out))
    assert not reconcile(rep)
    extract = next(st for st in rep["stages"] if st["stage"] == "extract")
    rights = next(s for s in extract["steps"] if s["name"] == "rights")
    assert rights["drops"] == {"noai": 1, "tdm_reservation": 2, "license_dropped": 1}
    assert rights["counters"]["license:CC-BY-4.0"] == 1 and rights["counters"]["license:CC-BY-NC-SA-4.0"] == 1
    manifest = json.loads((quickstart_out / "tokenize" / "manifest.json").read_text())
    by = manifest["tokens_by_license"]
    assert sum(by.values()) == manifest["total_tokens"] and by["CC-BY-4.0"] > 0 and by["CC-BY-NC-SA-4.0"] > 0
    html = tmp_path / "r.html"
    cli("stats", str(quickstart_out), "--html", str(html))
    page = html.read_text(encoding="utf-8")
    assert 'id="rights"' in page and 'data-chart="rights-per-license"' in page and "carry no signal" in page


def test_header_and_meta_that_disagree_the_stricter_wins():
    allow_header = "X-Robots-Tag: all"
    meta_noai = '<html><head><meta name="robots" content="index, follow, noai"></head><body>x</body></html>'
    s = page_signals(meta_noai, allow_header)
    assert s.directives == ["meta:noai"]
    meta_allows = '<html><head><meta name="robots" content="index, follow"></head></html>'
    s2 = page_signals(meta_allows, "X-Robots-Tag: noai")
    assert s2.directives == ["header:noai"]
    t = _table([{"id": "1", "text": "t", "url": "https://x.example/a", "source": "s", "rights_signals": s.directives,
                 "rights_known": True},
                {"id": "2", "text": "t", "url": "https://x.example/b", "source": "s", "rights_signals": s2.directives,
                 "rights_known": True}])
    res = get_step("rights", {}, StepContext()).process(t)
    assert res.rejected["reason"].to_pylist() == ["noai", "noai"]


def test_tdmrep_join_in_a_job_decides_as_the_whole_table(tmp_path):
    """A tdmrep.json table of 300 hosts in two files (path patterns, a malformed file, a 404, an
    older capture that loses) joined to 1,200 documents in 4 partitions: every document's cause,
    reason and the step's counters equal the whole-table step's."""
    import random

    import pyarrow.parquet as pq

    from cc_cleaner.pipeline.job import Job

    rng = random.Random(2)
    rows = []
    for i in range(300):
        rules = [{"location": "/", "tdm-reservation": rng.choice([0, 1])},
                 {"location": f"/p{i % 7}/*", "tdm-reservation": 1, "tdm-policy": f"https://h{i}.test/policy"},
                 {"location": "/free/*$", "tdm-reservation": 0}]
        body = json.dumps(rules[: rng.randint(1, 3)]) if i % 25 else "{not json"
        status = 404 if i % 40 == 3 else 200
        rows.append({"url": f"https://h{i}.test/.well-known/tdmrep.json", "status": status, "body": body,
                     "fetch_time": "2024-02-01", "location": ""})
    rows.append({"url": "https://h1.test/.well-known/tdmrep.json", "status": 200, "fetch_time": "2023-01-01",
                 "body": json.dumps([{"location": "/", "tdm-reservation": 1}]), "location": ""})  # older: loses
    rng.shuffle(rows)
    files = []
    for k in range(2):
        p = tmp_path / f"tdmrep-{k}.jsonl"
        p.write_text("".join(json.dumps(r) + "\n" for r in rows[k::2]))
        files.append(str(p))
    docs = [{"id": f"d{j}", "text": "t", "url": f"{rng.choice(['http', 'https'])}://h{rng.randrange(320)}.test"
             f"{rng.choice(['/', '/p3/a', '/free/x', '/free/x/y', '/other'])}"} for j in range(1200)]
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    cfg = {"tdmrep": files, "partitions": 4}
    job = Job.from_dict({"name": "j", "output": str(tmp_path / "out"),
                         "input": {"format": "jsonl", "paths": [str(tmp_path / "docs.jsonl")]},
                         "stages": [{"name": "s", "steps": [{"rights": cfg}]}]})
    job.run(workers=2)
    whole = get_step("rights", cfg, StepContext())
    want = whole.evaluate(pa.Table.from_pylist(docs))
    got = {}
    for folder in ("data", "rejected"):
        for p in (tmp_path / "out" / "s" / folder).glob("*.parquet"):
            got.update({r["id"]: (r["rights_cause"], r.get("reason")) for r in pq.read_table(p).to_pylist()})
    assert got == {d["id"]: (c, r) for d, c, r in zip(docs, want.columns["rights_cause"].to_pylist(), want.reasons,
                                                      strict=True)}
    assert 0 < sum(r is not None for r in want.reasons) < len(docs)
    stats = json.loads((tmp_path / "out" / "_state" / "s" / "summary.json").read_text())
    counters = next(st for st in stats["steps"] if st["name"] == "rights")["counters"]
    assert {k: v for k, v in counters.items() if v} == {k: v for k, v in want.counters.items() if v}
    assert counters["rights_malformed_tdmrep"] > 0
    phases = [p["phase"] for p in json.loads((tmp_path / "out" / "_state" / "s" / "phases.json").read_text())]
    assert [p.rsplit("-", 1)[-1] for p in phases] == ["table", "urls", "join", "map"], phases  # no redirects
