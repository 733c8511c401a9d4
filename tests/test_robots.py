"""robots.txt: Google's conformance cases, real files, RFC 9309 statuses, the step on a crawl."""

from __future__ import annotations

import json
import tarfile
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq

from cc_cleaner.filters.robots import normalize_robots, origin, parse_robots
from cc_cleaner.pipeline.step import StepContext, get_step

from conftest import QUICKSTART, shared_path

# Where protego, like RFC 9309 section 2.2.2, compares percent-encoded forms, while Google's
# library expects callers to have encoded the URL and does not decode %-escapes of unreserved
# characters: the RFC-conformant answer is "allowed".
RFC_OVER_GOOGLE = {"ID_Encoding#3", "ID_Encoding#5", "ID_Encoding#6"}


def test_google_allow_cases():
    rows = [json.loads(line) for line in shared_path("robots_txt", "google_robotstxt", "allow_cases.jsonl")
            .read_text().splitlines()]
    differ = {True: [], False: []}
    for r in rows:
        got = parse_robots(r["robots_txt"]).can_fetch(r["url"] or "http://x/", r["user_agent"] or "")
        if got != r["expected_allowed"]:
            differ[r["google_specific"]].append(r["id"])
    rfc = [r for r in rows if not r["google_specific"]]
    assert len(rfc) == 71 and set(differ[False]) == RFC_OVER_GOOGLE
    # Google-only behaviour we do not follow: a user-agent value with a space matched whole
    # ("Foo Bar" query), lines cut at 16,664 bytes, and a missing colon accepted.
    assert set(differ[True]) <= {"GoogleOnly_AcceptUserAgentUpToFirstSpace#2", "GoogleOnly_LineTooLong#2",
                                 "GoogleOnly_LineTooLong#5", "ID_LineSyntax_Line#3"}


def test_real_robots_files_parse_and_decide():
    path = shared_path("robots_txt", "protego_real_robots", "robots_txt_files.tar.gz")
    n = blocked_all = 0
    verdicts: Counter = Counter()
    with tarfile.open(path) as tar:
        for member in tar:
            if not member.isfile():
                continue
            body = tar.extractfile(member).read().decode("utf-8", "replace")
            rp = parse_robots(body)
            for agent in ("*", "GPTBot", "CCBot"):
                verdicts[agent] += not rp.can_fetch(f"https://{member.name}/", agent)
            n += 1
            # A file that disallows "/" for every agent must block the root for an unlisted agent.
            if normalize_robots(body).strip() == "user-agent: *\ndisallow: /":
                blocked_all += 1
                assert not rp.can_fetch(f"https://{member.name}/", "SomeBot")
    assert n >= 4000
    # (72 block the root for every crawler; 97 for CCBot, which some files name on its own.)
    assert 0 < verdicts["*"] < verdicts["CCBot"] < n // 10 and blocked_all >= 1


def test_normalize_keeps_groups_open_and_cuts_agent_tokens():
    body = "User-agent: FooBot\nUnknown: x\nUser-agent: *\nDisallow: /\n"
    assert normalize_robots(body) == "user-agent: FooBot\nuser-agent: *\ndisallow: /"
    assert not parse_robots(body).can_fetch("http://a/x", "FooBot")
    assert normalize_robots("User-Agent: FOO BAR # c\nAllow: /x/") == "user-agent: FOO\nallow: /x/"
    assert origin("HTTPS://Example.COM:443/a?b") == "https://example.com"
    assert origin("http://example.com:8080/") == "http://example.com:8080"


def test_statuses_missing_hosts_and_agents(tmp_path):
    rows = [{"url": "https://ok.example/robots.txt", "status": 200, "fetch_time": "2024-01-02",
             "body": "User-agent: GPTBot\nDisallow: /\nUser-agent: *\nDisallow: /private/"},
            {"url": "https://ok.example/robots.txt", "status": 200, "fetch_time": "2024-01-01", "body": "User-agent: *\nDisallow: /"},
            {"url": "https://gone.example/robots.txt", "status": 404, "fetch_time": "2024-01-01", "body": ""},
            {"url": "https://down.example/robots.txt", "status": 503, "fetch_time": "2024-01-01", "body": ""}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "robots.parquet")
    step = get_step("robots", {"table": str(tmp_path / "robots.parquet"), "extra_agents": ["MyBot"]}, StepContext())
    assert step.disallowed("https://ok.example/page") == ["GPTBot"]  # the latest capture wins
    assert step.disallowed("https://ok.example/private/x") == ["*", "CCBot", "GPTBot", "Google-Extended", "MyBot"]
    assert step.disallowed("https://gone.example/x") == []  # 4xx: unavailable, allow
    assert len(step.disallowed("https://down.example/x")) == 5  # 5xx: unreachable, disallow
    assert step.disallowed("https://never-fetched.example/x") == []
    strict = get_step("robots", {"table": str(tmp_path / "robots.parquet"), "missing": "disallow"}, StepContext())
    assert len(strict.disallowed("https://never-fetched.example/x")) == 4
    t = pa.table({"id": ["a", "b"], "text": ["x", "y"], "url": ["https://ok.example/page", "https://gone.example/p"],
                  "source": ["s", "s"]})
    res = step.process(t)
    assert res.rejected["robots_disallowed"].to_pylist() == [["GPTBot"]]
    assert res.counters == {"agent:GPTBot": 1, "host:ok.example": 1}


def test_table_from_the_crawl_own_warc_captures():
    step = get_step("robots", {"table": str(QUICKSTART.parent / "data" / "*.warc.gz")}, StepContext())
    assert step.disallowed("https://news.example.com/articles/compost") == ["GPTBot"]
    assert step.disallowed("https://www.example.cn/articles/winter-running") == ["CCBot"]
    assert step.disallowed("https://blog.example.org/articles/compost") == []


def _step(tmp_path, rows, **cfg):
    keys = {k: None for r in rows for k in r}
    pq.write_table(pa.Table.from_pylist([{**keys, **r} for r in rows]), tmp_path / "robots.parquet")
    return get_step("robots", {"table": str(tmp_path / "robots.parquet"), **cfg}, StepContext(stage=str(tmp_path)))


def test_host_keyed_rows_apply_to_http_and_https(tmp_path):
    step = _step(tmp_path, [{"host": "shop.example", "status": 200, "body": "User-agent: *\nDisallow: /cart/"},
                            {"host": "Blog.Example:8080", "status": 200, "body": "User-agent: GPTBot\nDisallow: /"}])
    for scheme in ("http", "https"):
        assert step.disallowed(f"{scheme}://shop.example/cart/1") == ["*", "CCBot", "GPTBot", "Google-Extended"]
        assert step.disallowed(f"{scheme}://shop.example/about") == []
        assert step.disallowed(f"{scheme}://blog.example:8080/post") == ["GPTBot"]
    t = pa.table({"id": ["a", "b", "c"], "text": ["x"] * 3, "source": ["s"] * 3,
                  "url": ["http://shop.example/cart/9", "https://shop.example/cart/9", "http://other.example/x"]})
    res = step.process(t)
    assert res.rejected["id"].to_pylist() == ["a", "b"]
    assert res.counters["capture:none_allow"] == 1


def test_bom_crlf_and_legacy_encodings_parse_as_plain_utf8(tmp_path):
    from cc_cleaner.filters.robots import decode_body

    plain = "User-agent: *\nDisallow: /private/\n\nUser-agent: GPTBot\nDisallow: /\n# café\n"
    variants = [b"\xef\xbb\xbf" + plain.replace("\n", "\r\n").encode(), plain.replace("\n", "\r").encode(),
                b"\xff\xfe" + plain.encode("utf-16-le"), b"\xfe\xff" + plain.replace("\n", "\r\n").encode("utf-16-be"),
                plain.encode("cp1252")]
    want = normalize_robots(plain)
    for raw in variants:
        body = decode_body(raw)
        assert normalize_robots(body.lstrip("\ufeff")) == want, raw[:20]
        rp = parse_robots(body)
        assert not rp.can_fetch("https://a.example/private/x", "CCBot")
        assert not rp.can_fetch("https://a.example/x", "GPTBot") and rp.can_fetch("https://a.example/x", "CCBot")
    # Through the table as raw bytes, as a WARC capture holds them.
    step = _step(tmp_path, [{"url": "https://a.example/robots.txt", "status": 200, "body": variants[0]}])
    assert step.disallowed("https://a.example/private/x") == ["*", "CCBot", "GPTBot", "Google-Extended"]


def test_redirects_other_scheme_and_missing_are_counted(tmp_path):
    step = _step(tmp_path, [
        {"url": "http://moved.example/robots.txt", "status": 301, "location": "https://moved.example/robots.txt"},
        {"url": "https://moved.example/robots.txt", "status": 200, "body": "User-agent: *\nDisallow: /"},
        {"url": "https://secure.example/robots.txt", "status": 200, "body": "User-agent: CCBot\nDisallow: /"},
        {"url": "http://loop.example/robots.txt", "status": 302, "location": "http://loop.example/robots.txt"}])
    assert len(step.disallowed("http://moved.example/a")) == 4  # the redirect's target decides
    assert step.disallowed("http://secure.example/a") == ["CCBot"]  # no http capture: the https one
    assert step.disallowed("http://loop.example/a") == []  # a redirect loop ends as unavailable
    t = pa.table({"id": list("abcd"), "text": ["x"] * 4, "source": ["s"] * 4,
                  "url": ["http://moved.example/a", "http://secure.example/a", "https://nowhere.example/",
                          "https://nowhere2.example/"]})
    c = step.process(t).counters
    assert (c["capture:redirect"], c["capture:other_scheme"], c["capture:none_allow"]) == (1, 1, 2)
