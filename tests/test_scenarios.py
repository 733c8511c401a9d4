"""Whole-job scenarios: resume inside global stages, dedup options, WET input, the resiliparse
backend and --restart-from a later stage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.job import Job
from cc_cleaner.pipeline.store import Store
from cc_cleaner.pipeline.text import token_f1

from conftest import QUICKSTART, cli, shared_path
from helpers import article_pages, tree_digest, write_warc

pytestmark = pytest.mark.slow


def _docs(root: Path, n: int = 60) -> dict[str, str]:
    truth = json.loads((root / "ground-truth.json").read_text())
    return {k: v["articleBody"] for k, v in sorted(truth.items())[:n] if len(v.get("articleBody") or "") > 400}


def _job(tmp: Path, docs: dict[str, str], stages: list[dict], name: str = "out", seed: int = 5) -> Job:
    items = list(docs.items())
    for i in range(3):  # three input files: three tasks in every stage
        (tmp / f"in{i}.jsonl").write_text("".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n"
                                                  for k, v in items[i::3]))
    spec = {"name": "sc", "seed": seed, "output": str(tmp / name),
            "input": {"format": "jsonl", "paths": [str(tmp / "in*.jsonl")]},
            "stages": [{"name": "ingest", "part_records": 10, "steps": []}, *stages]}
    return Job.from_dict(spec, base_dir=str(tmp))


def _rows(folder: Path) -> list[dict]:
    return [r for p in sorted(folder.glob("*.parquet")) for r in pq.read_table(p).to_pylist()]


def _with_dups(docs: dict[str, str]) -> dict[str, str]:
    """Exact copies (case and spacing changed) and near copies (one sentence edited) of 10 pages."""
    out = dict(docs)
    for i, (k, v) in enumerate(list(docs.items())[:10]):
        out[f"{k}-exact"] = "  ".join(v.upper().split(" ")) if i % 2 else v.lower()
        out[f"{k}-near"] = v[: len(v) // 2] + " An edited sentence appears here. " + v[len(v) // 2:]
    return out


def test_resume_inside_dedup_stages_is_byte_identical(tmp_path):
    """A run that stopped inside the dedup stages (some write/apply tasks done, the rest not) and
    is run again writes exactly the files of an uninterrupted run."""
    docs = _with_dups(_docs(shared_path("html_extraction", "article_extraction_benchmark")))
    stages = [{"name": "dd", "minhash": {}, "partitions": 3},
              {"name": "ds", "lines": {"max_repeats": 3}, "substrings": {"min_tokens": 30}, "partitions": 3}]
    ref = _job(tmp_path, docs, stages, "ref")
    ref.run(workers=2)
    expected = tree_digest(tmp_path / "ref")
    assert sum(k.startswith("dd/rejected") for k in expected) >= 1

    job = _job(tmp_path, docs, stages, "cut")
    job.run(workers=2)
    out = tmp_path / "cut"
    store = Store(str(out))
    # As if killed mid-phase: the last phase's later tasks lost their markers (written last) and
    # some of the files they had written; the stage has no _SUCCESS.
    for stage, phase in (("dd", "write"), ("ds", "substring_apply")):
        store.remove(layout.success_file(stage))
        homes = sorted(layout.upstream_groups(store, "ingest"))  # task i of the phase works for homes[i]
        markers = sorted((out / "_state" / stage / phase).glob("*.done"))
        assert len(markers) == len(homes) == 3
        for m in markers[1:]:
            m.unlink()
            lost = [f for f in sorted((out / stage).glob("*/*")) if f.name.startswith(homes[int(m.stem)])]
            for f in lost[::2]:
                f.unlink()
    rep = job.run(workers=2)
    assert [s.skipped for s in rep.stages] == [True, False, False]
    assert tree_digest(out) == expected


def test_dedup_options_exact_only_verify_off_and_random_keep(tmp_path):
    docs = _with_dups(_docs(shared_path("html_extraction", "article_extraction_benchmark")))
    # exact only: the case/spacing copies go, the edited copies stay.
    job = _job(tmp_path, docs, [{"name": "dd", "exact": True, "minhash": None, "partitions": 2}], "exact")
    job.run(workers=2)
    rej = {r["id"]: r["reason"] for r in _rows(tmp_path / "exact" / "dd" / "rejected")}
    assert len(rej) == 10 and set(rej.values()) == {"exact_duplicate"}
    assert all(k.endswith("-exact") or k + "-exact" in docs for k in rej)
    # MinHash without verification: every candidate pair counts; the edited copies go too.
    job = _job(tmp_path, docs, [{"name": "dd", "minhash": {"verify": False}, "partitions": 2}], "noverify")
    job.run(workers=2)
    clusters = json.loads((tmp_path / "noverify" / "dd" / "clusters.json").read_text())
    assert clusters["verified_pairs"] == 0 and clusters["candidate_pairs"] >= 10 == clusters["clusters"]
    rej = {r["id"]: r["reason"] for r in _rows(tmp_path / "noverify" / "dd" / "rejected")}
    assert len(rej) == 20 and "near_duplicate" in rej.values()
    # keep: random, seeded: one document per cluster stays; the seed decides which.
    kept = {}
    for seed in (1, 2, 3):
        job = _job(tmp_path, docs, [{"name": "dd", "minhash": {}, "keep": "random", "partitions": 2}],
                   f"random{seed}", seed=seed)
        job.run(workers=2)
        rows = _rows(tmp_path / f"random{seed}" / "dd" / "data")
        kept[seed] = sorted(r["id"] for r in rows)
        assert len(rows) == len(docs) - 20
    assert len({tuple(v) for v in kept.values()}) > 1


def test_substring_dedup_with_a_winnowing_window(tmp_path):
    docs = _docs(shared_path("html_extraction", "article_extraction_benchmark"), 30)
    span = " ".join(f"token{i}" for i in range(80)) + "."
    ids = list(docs)
    for k in ids[:4]:
        docs[k] = docs[k] + "\n" + span
    job = _job(tmp_path, docs, [{"name": "ds", "substrings": {"min_tokens": 40, "window": 4}, "partitions": 2}])
    job.run(workers=2)
    kept = {r["id"]: r["text"] for r in _rows(tmp_path / "out" / "ds" / "data")}
    assert sum("token40" in t for t in kept.values()) == 1  # three of the four copies cut
    assert all(kept[k].startswith(docs[k][:80]) for k in ids[:4] if k in kept)


def test_wet_input_in_a_job_matches_the_warc_ids(tmp_path):
    root = shared_path("warc", "commoncrawl_whirlwind")
    ids = {}
    for fmt, name in (("warc", "whirlwind.warc.gz"), ("wet", "whirlwind.warc.wet.gz")):
        spec = {"name": "w", "output": str(tmp_path / fmt), "input": {"format": fmt, "paths": [str(root / name)]},
                "stages": [{"name": "read", "steps": ["extract"] if fmt == "warc" else []}]}
        Job.from_dict(spec).run(workers=1)
        ids[fmt] = {r["id"]: r for r in _rows(tmp_path / fmt / "read" / "data")}
    assert ids["wet"] and set(ids["warc"]) <= set(ids["wet"])
    assert all(r["text"].strip() for r in ids["wet"].values())


def test_resiliparse_backend_in_a_job(tmp_path):
    root = shared_path("html_extraction", "article_extraction_benchmark")
    pages = article_pages(root.parents[1], limit=40)
    write_warc(tmp_path / "a.warc.gz", pages)
    truth = {p[0]: t["articleBody"] for p, t in zip(pages, [json.loads((root / "ground-truth.json").read_text())[k]
                                                              for k in sorted(json.loads(
                                                                  (root / "ground-truth.json").read_text()))[:40]],
                                                     strict=True)}
    spec = {"name": "r", "output": str(tmp_path / "out"), "input": {"format": "warc", "paths": [str(tmp_path / "a.warc.gz")]},
            "stages": [{"name": "x", "steps": [{"extract": {"backend": "resiliparse"}}]}]}
    Job.from_dict(spec).run(workers=1)
    rows = _rows(tmp_path / "out" / "x" / "data")
    assert len(rows) >= 35
    f1 = [token_f1(r["text"], truth[r["url"]])[2] for r in rows if r["url"] in truth]
    assert sum(f1) / len(f1) > 0.8


def test_restart_from_a_later_stage_keeps_the_earlier_ones(tmp_path):
    out = tmp_path / "out"
    cli("run", str(QUICKSTART), "--output", str(out), "--workers", "2", "--quiet")
    before = tree_digest(out, ("data", "rejected", "errors", "shards"))
    early = {p: p.stat().st_mtime_ns for p in (out / "extract").rglob("*") if p.is_file()}
    text = cli("run", str(QUICKSTART), "--output", str(out), "--workers", "2", "--quiet", "--restart-from", "clean")
    lines = {ln.split()[0]: ln for ln in text.splitlines() if ln.strip()}
    assert "(already done)" in lines["extract"] and "(already done)" in lines["dedup_strings"]
    assert "(2/2 tasks run" in lines["clean"]
    assert {p: p.stat().st_mtime_ns for p in (out / "extract").rglob("*") if p.is_file()} == early
    assert tree_digest(out, ("data", "rejected", "errors", "shards")) == before
    shutil.rmtree(out)
    assert yaml.safe_load(QUICKSTART.read_text())["stages"][3]["name"] == "clean"
