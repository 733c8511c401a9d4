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


def test_a_shared_parse_answers_as_a_fresh_one():
    """Equal robots.txt bodies share one parse (hosts of a platform serve the same file); after it
    has answered for other hosts and agents, it answers every URL as a fresh parse does."""
    from protego import Protego

    path = shared_path("robots_txt", "protego_real_robots", "robots_txt_files.tar.gz")
    with tarfile.open(path) as tar:
        bodies = [tar.extractfile(m).read().decode("utf-8", "replace") for m in tar if m.isfile()][:400]
    agents = ("*", "GPTBot", "CCBot", "Googlebot", "SomeBot")
    paths = ("/", "/search?q=x", "/wp-admin/", "/private/a.html", "/a/b/c", "/robots.txt", "/%7Euser/", "/ÄÖ")
    for body in bodies:
        shared = parse_robots(body)
        for agent in agents:  # a first host asks
            shared.can_fetch("https://one.example/", agent)
        assert parse_robots(body) is shared
        fresh = Protego.parse(normalize_robots(body.lstrip("\ufeff")))
        for agent in agents:
            for q in paths:
                url = f"https://two.example{q}"
                assert shared.can_fetch(url, agent) == fresh.can_fetch(url, agent), (body[:200], url, agent)


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
            {"url": "https://down.example/robots.txt", "status": 503, "fetch_time": "2024-01-01", "body": ""},
            {"url": "https://busy.example/robots.txt", "status": 429, "fetch_time": "2024-01-01", "body": ""}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "robots.parquet")
    step = get_step("robots", {"table": str(tmp_path / "robots.parquet"), "extra_agents": ["MyBot"]}, StepContext())
    assert step.disallowed("https://ok.example/page") == ["GPTBot"]  # the latest capture wins
    assert step.disallowed("https://ok.example/private/x") == ["*", "CCBot", "GPTBot", "Google-Extended", "MyBot"]
    assert step.disallowed("https://gone.example/x") == []  # 4xx: unavailable, allow
    assert len(step.disallowed("https://down.example/x")) == 5  # 5xx: unreachable, disallow
    assert len(step.disallowed("https://busy.example/x")) == 5  # 429: not served, as 5xx (Google)
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


def test_one_origin_for_every_spelling_of_a_host(tmp_path):
    """A host table typed in Unicode answers for the crawl's punycode URLs and the other way
    round; case, default ports and a trailing dot name the same origin."""
    from cc_cleaner.filters.robots import origin

    assert len({origin(u) for u in ("http://Bücher.DE/x", "http://xn--bcher-kva.de:80/y", "http://bücher.de./z")}) == 1
    assert origin("https://straße.de/") == "https://xn--strae-oqa.de"  # UTS 46, as browsers (not IDNA 2003's ss)
    assert origin("http://例子.中国/a") == origin("http://xn--fsqu00a.xn--fiqs8s/b")
    rows = [{"host": "bücher.de", "url": None, "body": "User-agent: *\nDisallow: /"},
            {"host": None, "url": "https://xn--fsqu00a.xn--fiqs8s/robots.txt", "body": "User-agent: GPTBot\nDisallow: /"}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "robots.parquet")
    step = get_step("robots", {"table": str(tmp_path / "robots.parquet")}, StepContext())
    assert len(step.disallowed("https://xn--bcher-kva.de/page")) == 4
    assert step.disallowed("https://例子.中国./page") == ["GPTBot"]


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


class InProcess:
    """An engine that runs tasks in this process, so the test can see every table load."""

    where = ""

    def run(self, tasks, fn, on_done, resources=None):
        for t in tasks:
            on_done(t, fn(t))

    def close(self):
        pass


def test_join_by_host_decides_as_the_whole_table_and_no_task_loads_it(tmp_path, monkeypatch):
    """Real robots.txt files (4,000+ hosts) in three table files, with redirects across hosts
    (chains, a loop, a missing target, a non-robots target), joined to documents in 5 partitions:
    every document's verdict and capture counters equal the whole-table step's; no task loads more
    than one table file."""
    import random

    from cc_cleaner.filters import robots as robots_mod
    from cc_cleaner.pipeline.job import Job
    from cc_cleaner.pipeline.runner import run_job

    rng = random.Random(4)
    files: list[tuple[str, str]] = []
    with tarfile.open(shared_path("robots_txt", "protego_real_robots", "robots_txt_files.tar.gz")) as tar:
        for member in tar:
            if member.isfile():
                files.append((member.name.rsplit("/", 1)[-1].lower(), tar.extractfile(member).read().decode("utf-8", "replace")))
    files = files[:1500]
    rows = [{"url": f"https://{h}/robots.txt", "status": 200, "body": b, "fetch_time": "2024-01-02"} for h, b in files]
    hosts = [h for h, _ in files]
    for i in range(60):  # redirects to other hosts, some through a second alias
        target = hosts[rng.randrange(len(hosts))]
        rows.append({"url": f"https://alias{i}.test/robots.txt", "status": 301, "fetch_time": "2024-01-02",
                     "location": f"https://{target}/robots.txt"})
        rows.append({"url": f"http://hop{i}.test/robots.txt", "status": 302, "fetch_time": "2024-01-02",
                     "location": f"https://alias{i}.test/robots.txt"})
    rows += [{"url": "https://loop.test/robots.txt", "status": 301, "location": "https://loop2.test/robots.txt"},
             {"url": "https://loop2.test/robots.txt", "status": 301, "location": "https://loop.test/robots.txt"},
             {"url": "https://gone.test/robots.txt", "status": 301, "location": "https://nowhere.test/robots.txt"},
             {"url": "https://page.test/robots.txt", "status": 301, "location": f"https://{hosts[0]}/index.html"},
             {"url": "https://down.test/robots.txt", "status": 503},
             {"url": f"https://{hosts[1]}/robots.txt", "status": 200, "body": "User-agent: *\nDisallow: /",
              "fetch_time": "2023-01-01"}]  # older than the real capture: loses
    rng.shuffle(rows)
    table_files = []
    for k in range(3):
        p = tmp_path / f"robots-{k}.jsonl"
        p.write_text("".join(json.dumps({"status": 200, "body": "", "fetch_time": "", "location": "", **r}) + "\n"
                             for r in rows[k::3]))
        table_files.append(str(p))
    docs = []
    for h, body in files[:700] + [(f"alias{i}.test", "") for i in range(60)] + [(f"hop{i}.test", "") for i in range(60)] \
            + [(x, "") for x in ("loop.test", "gone.test", "page.test", "down.test", "unknown.test")]:
        paths = ["/", "/x/y"] + [ln.split(":", 1)[1].strip() or "/" for ln in body.splitlines()
                                 if ln.lower().startswith("disallow:")][:3]
        for path in paths:
            scheme = rng.choice(["http", "https"])
            docs.append({"id": f"d{len(docs)}", "text": "t", "url": f"{scheme}://{h}{path}"})
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))

    loads: list[int] = []
    real_load = robots_mod.load_table

    def counting_load(paths, *a, **kw):
        loads.append(len(robots_mod.expand_paths(paths)))
        return real_load(paths, *a, **kw)

    monkeypatch.setattr(robots_mod, "load_table", counting_load)
    import cc_cleaner.filters.origin_join as join_mod
    monkeypatch.setattr(join_mod, "load_table", counting_load)
    cfg = {"table": table_files, "partitions": 5}
    job = Job.from_dict({"name": "j", "output": str(tmp_path / "out"),
                         "input": {"format": "jsonl", "paths": [str(tmp_path / "docs.jsonl")]},
                         "stages": [{"name": "s", "steps": [{"robots": cfg}]}]})
    run_job(job, InProcess(), progress=False)
    assert loads and max(loads) == 1, loads  # table files one at a time, never the whole table

    whole = robots_mod.Robots(robots_mod.RobotsConfig(**cfg), StepContext())
    whole.setup()
    want = {d["id"]: whole.disallowed(d["url"]) for d in docs}
    got = {}
    for folder in ("data", "rejected"):
        for p in (tmp_path / "out" / "s" / folder).glob("*.parquet"):
            got.update({r["id"]: r["robots_disallowed"] for r in pq.read_table(p).to_pylist()})
    assert got == want
    assert 0 < sum(bool(v) for v in want.values()) < len(docs)
    stats = json.loads((tmp_path / "out" / "_state" / "s" / "summary.json").read_text())
    counters = next(st for st in stats["steps"] if st["name"] == "robots")["counters"]
    hows = Counter(whole._disallowed(d["url"])[1] for d in docs)
    assert counters.get("capture:redirect", 0) == hows["redirect"] > 60
    assert counters.get("capture:other_scheme", 0) == hows["other_scheme"] > 0
