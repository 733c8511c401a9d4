"""Whole jobs on the local engine: the quickstart, reruns, changed configs, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from conftest import QUICKSTART, cli, shared_path
from helpers import tree_digest

pytestmark = pytest.mark.slow


def read_rows(folder: Path) -> list[dict]:
    rows = []
    for p in sorted(folder.glob("*.parquet")):
        rows += pq.read_table(p).to_pylist()
    return rows


def test_quickstart_outputs(quickstart_out: Path):
    docs = read_rows(quickstart_out / "extract" / "data")
    rejected = {r["url"]: (r["step"], r["reason"]) for r in read_rows(quickstart_out / "extract" / "rejected")}
    assert rejected["https://spam.example.biz/seo-links"] == ("url_blocklist", "blocked_url")
    assert rejected["https://spam.example.biz/cheap-pills"] == ("gopher_repetition", "top_ngram_repeated")
    assert rejected["https://spam.example.biz/zh-spam"] == ("gopher_repetition", "top_ngram_repeated")
    assert rejected["https://blog.example.org/articles/bienen"] == ("language", "language_not_kept")
    assert rejected["https://news.example.com/tags"] == ("gopher_quality", "too_few_words")
    assert rejected["https://news.example.com/articles/compost"] == ("robots", "robots_disallowed")
    assert rejected["https://contact.example.org/contact-bakery"] == ("quality_model", "quality_score_too_low")
    # The site owners' reservations and licences (rights step; see make_sample.py).
    assert rejected["https://rights.example.org/lighthouse"] == ("rights", "noai")  # X-Robots-Tag header
    assert rejected["https://rights.example.org/bees"] == ("rights", "tdm_reservation")  # meta tag
    assert rejected["https://press.example.net/reserved/birds"] == ("rights", "tdm_reservation")  # tdmrep.json
    assert rejected["https://open.example.org/starter"] == ("rights", "license_dropped")  # CC BY-ND in a Link header
    assert len(docs) == 24 and len(rejected) == 15
    assert {d["lang"] for d in docs} == {"en", "zh"}
    ids = [d["id"] for d in docs]
    assert len(set(ids)) == len(ids)
    assert {"id", "text", "url", "source"} <= set(docs[0])
    texts = {d["url"]: d["text"] for d in docs}
    # Boilerplate is gone, the article stays; GBK served with a header charset decodes.
    assert "cookie" not in texts["https://news.example.com/articles/sourdough"].lower()
    assert "lactic acid bacteria" in texts["https://news.example.com/articles/sourdough"]
    assert "绿茶属于不发酵茶" in texts["http://old.example.cn/tea.html"]
    errors = [json.loads(ln) for p in (quickstart_out / "extract" / "errors").glob("*.jsonl")
              for ln in p.read_text().splitlines()]
    assert [e["error"] for e in errors] == ["binary_payload"]
    assert errors[0]["url"] == "https://broken.example.com/page" and errors[0]["offset"] > 0
    assert (quickstart_out / "job.yaml").exists()


def test_status_and_stats(quickstart_out: Path):
    assert "map 2/2" in cli("status", str(quickstart_out)) and "finished" in cli("status", str(quickstart_out))
    out = cli("stats", str(quickstart_out))
    assert "extract" in out and "binary_payload=1" in out and "revisit=1" in out
    stages = json.loads(cli("stats", str(quickstart_out), "--json"))["stages"]
    st = stages[0]
    docs = read_rows(quickstart_out / "extract" / "data")
    assert st["docs_out"] == len(docs)
    for s in st["steps"]:
        assert s["docs_in"] == s["docs_out"] + sum(s["drops"].values())
    # Every stage's output is the next one's input.
    for a, b in zip(stages, stages[1:], strict=False):
        assert a["docs_out"] == b["docs_in"], (a["stage"], b["stage"])
    dedup = stages[1]
    assert dedup["steps"][0]["drops"] == {"exact_duplicate": 5, "near_duplicate": 3}
    manifest = json.loads((quickstart_out / "tokenize" / "manifest.json").read_text())
    tok = stages[-1]
    final = read_rows(quickstart_out / "clean" / "data")
    assert tok["stage"] == "tokenize" and tok["docs_in"] == len(final) == manifest["total_docs"] == 15
    clean = {r["url"]: r for r in final}
    school = clean["https://contact.example.org/contact-school"]
    assert school["pii_count"] == 5 and "138-1234-5678" not in school["text"] and "<CN_ID>" in school["text"]
    contaminated = read_rows(quickstart_out / "clean" / "rejected")
    assert [(r["url"], r["contamination"]) for r in contaminated] == [
        ("https://tutor.example.org/homework-help", ["sample:bake-1"])]
    assert tok["tokens_out"] == manifest["total_tokens"]


def test_rerun_skips_and_changed_config_is_an_error(quickstart_out: Path, tmp_path: Path):
    out = tmp_path / "out"
    shutil.copytree(quickstart_out, out)
    before = tree_digest(out)
    assert "already done" in cli("run", str(QUICKSTART), "--output", str(out), "--quiet")
    assert tree_digest(out) == before
    spec = yaml.safe_load(QUICKSTART.read_text())
    steps = {name: cfg for st in spec["stages"] for item in st.get("steps", []) for name, cfg in item.items()}
    steps["extract"]["favor_precision"] = True
    spec["input"]["paths"] = [str(QUICKSTART.parent / "data" / "*.warc.gz")]
    steps["robots"]["table"] = steps["rights"]["tdmrep"] = str(QUICKSTART.parent / "data" / "*.warc.gz")
    steps["url_blocklist"]["file"] = str(QUICKSTART.parent / "blocklist.txt")
    steps["decontaminate"]["files"][0]["path"] = str(QUICKSTART.parent / "benchmark_sample.jsonl")
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(spec))
    msg = cli("run", str(changed), "--output", str(out), "--quiet", code=2)
    assert "stage 'extract' changed" in msg and "--restart-from extract" in msg
    cli("run", str(changed), "--output", str(out), "--quiet", "--restart-from", "extract")
    assert tree_digest(out) != before
    assert "favor_precision: true" in (out / "job.yaml").read_text()


def test_bad_job_file_is_one_clear_line(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\noutput: o\ninput: {format: warc, paths: [a]}\nstages: [{name: s, steps: [extract], colour: red}]\n")
    msg = cli("run", str(bad), code=2)
    assert msg.startswith("error:") and "stages.0.colour" in msg and msg.count("\n") == 1
    nothing = tmp_path / "nothing.yaml"
    nothing.write_text("name: x\noutput: o\ninput: {format: warc, paths: [none/*.warc.gz]}\nstages: [{name: s, steps: [extract]}]\n")
    assert "matched no files" in cli("run", str(nothing), code=2)
    missing = tmp_path / "missing.yaml"
    missing.write_text(f"name: x\noutput: o\ninput: {{format: warc, paths: ['{QUICKSTART.parent}/data/*.warc.gz']}}\n"
                       "stages: [{name: s, steps: [extract, {url_blocklist: {file: nope.txt}}]}]\n")
    msg = cli("run", str(missing), code=2)
    assert "step 'url_blocklist' cannot start" in msg and "nope.txt" in msg


def test_real_warc_files_with_broken_ones(tmp_path: Path):
    root = shared_path("warc")
    job = {"name": "real", "output": str(tmp_path / "out"),
           "input": {"format": "warc", "paths": [f"{root}/warcio_test_fixtures/*", f"{root}/resiliparse/*.warc.gz",
                                                 f"{root}/dolma/*.warc.gz", f"{root}/pywb/*.warc.gz"]},
           "stages": [{"name": "extract", "part_records": 8, "steps": ["extract"]}]}
    jf = tmp_path / "real.yaml"
    jf.write_text(yaml.safe_dump(job))
    cli("run", str(jf), "--workers", "2", "--quiet")
    out = tmp_path / "out" / "extract"
    errors = [json.loads(ln) for p in (out / "errors").glob("*.jsonl") for ln in p.read_text().splitlines()]
    failed_files = {Path(e["file"]).name for e in errors}
    assert failed_files == {"clipped.warc.gz", "bad.arc", "example-wrong-chunks.warc.gz", "example-space-in-url.arc"}
    st = json.loads(cli("stats", str(tmp_path / "out"), "--json"))["stages"][0]
    assert sum(st["errors"].values()) == len(errors)
    kept = read_rows(out / "data")
    rejected = read_rows(out / "rejected")
    assert st["docs_in"] == len(kept) + len(rejected) >= 100
    assert len(kept) >= 90
