"""Stats that reconcile, deterministic samples, `cc-cleaner sample`, partial stats, and the HTML
report rendered in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from cc_cleaner.jobs.report import load_report, reconcile
from cc_cleaner.jobs.report_html import BAR, SECTIONS, THRESHOLD

from conftest import QUICKSTART, REPO, cli

pytestmark = pytest.mark.slow
ARTIFACTS = Path(os.environ.get("CC_CLEANER_TEST_ARTIFACTS", REPO / "test-artifacts"))


def test_totals_reconcile_with_the_shards(quickstart_out: Path):
    report = load_report(str(quickstart_out))
    assert report["finished"] and report["problems"] == []
    for st in report["stages"]:
        for s in st["steps"]:
            assert s["docs_in"] == s["docs_out"] + sum(s["drops"].values()), (st["stage"], s["name"])
            for counts in s["drops_by"].values():
                assert sum(counts.values()) == sum(s["drops"].values())
    shards = [pq.read_table(p) for p in sorted((quickstart_out / "tokenize" / "shards").glob("*.parquet"))]
    tok = report["stages"][-1]
    assert tok["docs_out"] == sum(t.num_rows for t in shards) == 15
    assert tok["tokens_out"] == sum(sum(t["n_tokens"].to_pylist()) for t in shards)
    assert sum(tok["out_by"]["lang"].values()) == 15 and set(tok["out_by"]["lang"]) == {"en", "zh"}
    tokens_by_lang = {k: v for k, v in tok["steps"][0]["counters"].items() if k.startswith("tokens:lang:")}
    assert sum(tokens_by_lang.values()) == tok["tokens_out"]
    # Every removed document is in rejected/ exactly once, under the step that removed it.
    for st in report["stages"]:
        rows = [r for p in (quickstart_out / st["stage"] / "rejected").glob("*.parquet")
                for r in pq.read_table(p, columns=["step", "reason"]).to_pylist()]
        for s in st["steps"]:
            found = {}
            for r in rows:
                if r["step"] == s["name"]:
                    found[r["reason"]] = found.get(r["reason"], 0) + 1
            assert found == s["drops"], (st["stage"], s["name"])
    assert "counts reconcile" in cli("stats", str(quickstart_out))


def test_reconcile_catches_a_count_that_does_not_add_up(quickstart_out: Path):
    report = json.loads(json.dumps(load_report(str(quickstart_out))))
    language = next(s for s in report["stages"][0]["steps"] if s["name"] == "language")
    language["docs_out"] += 1  # language lets one more through than it counted
    report["stages"][-1]["shards"]["docs"] -= 1
    problems = reconcile(report)
    assert any("extract/language" in p and "removed" in p for p in problems)
    assert any("extract/gopher_repetition" in p and "step before" in p for p in problems)
    assert any("shards hold 14 docs" in p for p in problems)


def test_samples_do_not_depend_on_parts_or_workers(quickstart_out: Path, tmp_path: Path):
    """The extract stage run again cut into 3-record parts on one worker keeps the same samples."""
    spec = yaml.safe_load(QUICKSTART.read_text())
    spec["stages"] = [dict(spec["stages"][0], part_records=3)]
    spec["input"]["paths"] = [str(QUICKSTART.parent / p) for p in spec["input"]["paths"]]
    for step in spec["stages"][0]["steps"]:
        for cfg in step.values():
            for key in ("file", "model", "table", "tdmrep"):
                if isinstance(cfg, dict) and isinstance(cfg.get(key), str):
                    cfg[key] = str(QUICKSTART.parent / cfg[key])
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump(spec))
    cli("run", str(job), "--output", str(tmp_path / "out"), "--workers", "1", "--quiet")
    small = load_report(str(tmp_path / "out"))["stages"][0]
    full = load_report(str(quickstart_out))["stages"][0]
    assert small["parts"] > full["parts"]
    assert [s["samples"] for s in small["steps"]] == [s["samples"] for s in full["steps"]]
    assert [s["drops_by"] for s in small["steps"]] == [s["drops_by"] for s in full["steps"]]
    lang = next(s for s in full["steps"] if s["name"] == "language")
    assert lang["drops_by"]["lang"] == {"de": 1, "es": 1, "fr": 1, "ja": 1}
    sample = lang["samples"]["language_not_kept"]
    assert len(sample) == 4 and all(r["metrics"]["lang"] in {"de", "es", "fr", "ja"} for r in sample)


def test_sample_command(quickstart_out: Path):
    report = load_report(str(quickstart_out))
    lang = next(s for s in report["stages"][0]["steps"] if s["name"] == "language")
    first_two = [r["id"] for r in lang["samples"]["language_not_kept"][:2]]
    lines = cli("sample", str(quickstart_out), "--step", "language", "-n", "2", "--json").splitlines()
    docs = [json.loads(ln) for ln in lines]
    assert [d["id"] for d in docs] == first_two and all(d["reason"] == "language_not_kept" for d in docs)
    out = cli("sample", str(quickstart_out), "--step", "dedup", "--reason", "near_duplicate", "-n", "10")
    assert out.count("### ") == 3 and "dup_cluster=" in out
    kept = cli("sample", str(quickstart_out), "--step", "decontaminate", "--kept", "-n", "3", "--chars", "50")
    assert kept.count("### ") == 3
    assert "no step 'nope'" in cli("sample", str(quickstart_out), "--step", "nope", code=2)
    assert "no removed documents" in cli("sample", str(quickstart_out), "--step", "tokenize", code=1)


def test_partial_stats_are_labelled(quickstart_out: Path, tmp_path: Path):
    """What a reader sees mid-run: a stage with some parts done and no _SUCCESS yet."""
    out = tmp_path / "out"
    shutil.copytree(quickstart_out, out)
    (out / "_state" / "clean" / "_SUCCESS").unlink()
    first = sorted((out / "clean" / "stats").glob("*.json"))[0]
    first.unlink()
    for later in ("tokenize",):
        shutil.rmtree(out / later)
        shutil.rmtree(out / "_state" / later)
    text = cli("stats", str(out))
    assert "partial: stage not finished" in text and "tokenize: not started" in text
    assert "COUNTS DO NOT ADD UP" not in text
    report = load_report(str(out))
    assert not report["finished"] and report["problems"] == []
    html = tmp_path / "r.html"
    cli("stats", str(out), "--html", str(html))
    assert "Partial: the job has not finished" in html.read_text()


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.skip("chromium not installed: run tests/setup_browser.sh (Debian: apt-get install chromium "
                    "fonts-wqy-microhei)")
    return exe


CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-extensions", "--disable-sync", "--hide-scrollbars", "--mute-audio"]


def test_html_report_renders_in_headless_chromium(quickstart_out: Path, tmp_path: Path):
    from PIL import Image

    exe = _chromium()
    html = tmp_path / "report.html"
    cli("stats", str(quickstart_out), "--html", str(html))
    page = html.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the report must not load anything"
    env = {**os.environ, "HOME": str(tmp_path)}  # chromium writes its profile under HOME
    dom = subprocess.run([exe, *CHROME_FLAGS, "--dump-dom", html.as_uri()], capture_output=True, text=True,
                         timeout=120, env=env, check=True).stdout
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in dom, sid
    charts = re.findall(r'<svg class="chart" data-chart="([^"]+)"', dom)
    report = load_report(str(quickstart_out))
    n_hists = sum(len(s["hists"]) for st in report["stages"] for s in st["steps"])
    assert charts.count("funnel") == 1 and charts.count("drops-per-reason") == 1
    assert sum(c.startswith("hist:") for c in charts) == n_hists >= 20
    for chart in ("cluster-sizes", "pii-per-type", "robots-per-agent", "contamination-per-benchmark", "timings"):
        assert chart in charts, chart
    assert dom.count('class="threshold"') >= 15
    assert dom.count('<div class="sample-group">') == sum(len(s["samples"]) for st in report["stages"]
                                                          for s in st["steps"]) == 12
    assert "温泉" in dom or "绿茶" in dom or "茶" in dom  # Chinese samples reach the page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "quickstart-report.png"
    subprocess.run([exe, *CHROME_FLAGS, "--window-size=1280,9000", f"--screenshot={shot}", html.as_uri()],
                   capture_output=True, timeout=120, env=env, check=True)
    img = Image.open(shot).convert("RGB")
    assert img.size == (1280, 9000)
    colors = {c for _, c in img.getcolors(maxcolors=1 << 20)}
    hexed = {"#{:02x}{:02x}{:02x}".format(*c) for c in colors}
    assert BAR in hexed and THRESHOLD in hexed, "bars and threshold lines were painted"
    assert len(colors) > 50  # text was rendered (anti-aliased glyphs), not an empty page


PLANTED_PII = ["orders@riverside-bakery.example.com", "dana.whitfield@riverside-bakery.example.com",
               "(555) 014-2387", "4111 1111 1111 1111", "138-1234-5678", "021-6543-2109",
               "info@xingguang-school.example.com", "11010519491231002X", "192.168.10.25"]


def test_no_raw_pii_in_stats_report_or_sample(quickstart_out: Path, tmp_path: Path):
    """The quickstart's contact pages hold e-mail addresses, phone, card and ID numbers. Some of them are
    dropped before the pii step runs, so their raw text is in rejected/; the stats, the HTML report and
    `cc-cleaner sample` must not show it (only `sample --raw` does)."""
    rejected_text = "".join(str(t.to_pylist()) for p in sorted(quickstart_out.glob("*/rejected/*.parquet"))
                            for t in [pq.read_table(p)])
    in_rejected = [v for v in PLANTED_PII if v in rejected_text]
    assert len(in_rejected) >= 3, in_rejected  # the check below has something to catch
    html = tmp_path / "r.html"
    shown = cli("stats", str(quickstart_out), "--json", "--html", str(html)) + html.read_text()
    report = load_report(str(quickstart_out))
    steps = {s["name"] for st in report["stages"] for s in st["steps"] if s["drops"]}
    raw = ""
    for step in sorted(steps):
        shown += cli("sample", str(quickstart_out), "--step", step, "-n", "50", "--chars", "0")
        shown += cli("sample", str(quickstart_out), "--step", step, "-n", "50", "--json")
        raw += cli("sample", str(quickstart_out), "--step", step, "-n", "50", "--chars", "0", "--raw")
    for stats in quickstart_out.glob("*/stats/*.json"):
        shown += stats.read_text()
    leaked = [v for v in PLANTED_PII if v in shown or json.dumps(v)[1:-1] in shown]
    assert leaked == []
    assert any(v in raw for v in in_rejected)


def test_redact_rejected_scrubs_every_stage(tmp_path: Path):
    job = yaml.safe_load(QUICKSTART.read_text())
    job["redact_rejected"] = True
    job["stages"] = job["stages"][:2]
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job))
    for name in ("data", "blocklist.txt"):
        os.symlink(QUICKSTART.parent / name, tmp_path / name)
    out = tmp_path / "out"
    cli("run", str(path), "--output", str(out), "--workers", "1", "--quiet")
    files = sorted(out.glob("*/rejected/*.parquet"))
    assert files
    text = "".join(str(pq.read_table(p).to_pylist()) for p in files)
    assert "<EMAIL>" in text or "<NUMBER>" in text
    assert [v for v in PLANTED_PII if v in text] == []


def test_html_labels_fit_thresholds_per_language_and_skipped_records(quickstart_out: Path, tmp_path: Path):
    from cc_cleaner.jobs.report_html import fit_label, hbar_svg, text_width

    page = tmp_path / "r.html"
    cli("stats", str(quickstart_out), "--html", str(page))
    html = page.read_text(encoding="utf-8")
    lang = re.search(r'data-chart="hist:lang_score".*?</svg>', html, re.S).group(0)
    assert re.findall(r'fill="#e45756">([^<]+)<', lang) == ["zh 0.5", "en 0.65"]  # the job's min_score per language
    assert "records skipped" in html and "revisit=1" in html
    long = "dedup_strings/dedup_substrings_with_a_very_long_step_name_from_a_user_package"
    svg = hbar_svg([(long, 3), ("短", 1)], "t", width=500)
    shown = re.findall(r"</title>([^<]*)</text>", svg)
    assert shown[0].endswith("…") and text_width(shown[0]) <= 250 and shown[1] == "短"
    assert f"<title>{long}</title>" in svg  # the whole label on hover
    assert fit_label("中文标签" * 10, 100).endswith("…") and text_width(fit_label("中文标签" * 10, 100)) <= 100


def test_stage_wall_times_account_for_the_run(tmp_path: Path):
    """Setup, planning, scheduling and waiting are counted: the stages' wall seconds add up to
    the run's wall time within 5%."""
    import time

    from cc_cleaner.pipeline.engines import get_engine
    from cc_cleaner.pipeline.job import Job
    from cc_cleaner.pipeline.runner import run_job

    job = Job.from_yaml(str(QUICKSTART), output=str(tmp_path / "out"))
    engine = get_engine("local", 2)
    try:
        t0 = time.perf_counter()
        run_job(job, engine, progress=False)
        wall = time.perf_counter() - t0
    finally:
        engine.close()
    stages = load_report(str(tmp_path / "out"))["stages"]
    total = sum(st["wall_seconds"] for st in stages)
    assert 0.95 * wall <= total <= wall, (total, wall)
    assert all(set(st["phase_seconds"]) >= {"setup"} for st in stages)
    assert "wall per phase" in cli("stats", str(tmp_path / "out"))
