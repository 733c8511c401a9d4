"""Bad input, bad options and a shared output folder, as a new user meets them: each case checks
the exit code, the one error line, and that the good records came through."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import QUICKSTART

CLI = [sys.executable, "-m", "cc_cleaner.jobs.cli"]


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def error_line(res: subprocess.CompletedProcess) -> str:
    """The run's one error line (engines may log before it; nothing may follow it)."""
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("error: "), res.stderr[-2000:]
    assert sum(ln.startswith("error: ") for ln in lines) == 1 and "Traceback" not in res.stderr
    return lines[-1]


def write_job(tmp: Path, steps: list, fmt: str = "jsonl", paths: list[str] | None = None, **extra) -> Path:
    job = {"name": "robust", "output": str(tmp / "out"), "input": {"format": fmt, "paths": paths or ["*.jsonl"]},
           "stages": [{"name": "clean", "part_records": 50, "steps": steps}], **extra}
    jf = tmp / "job.yaml"
    jf.write_text(yaml.safe_dump(job))
    return jf


def docs(n: int, tag: str = "d") -> list[dict]:
    return [{"id": f"{tag}{i}", "text": f"Document {i} has a sentence of ordinary words in it."} for i in range(n)]


def rows(folder: Path) -> list[dict]:
    return [r for p in sorted(folder.glob("*.parquet")) for r in pq.read_table(p).to_pylist()]


def errors(folder: Path) -> list[dict]:
    return [json.loads(ln) for p in sorted(folder.glob("*.jsonl")) for ln in p.read_text().splitlines()]


def test_bad_parquet_rows_and_files_go_to_errors_and_the_job_goes_on(tmp_path):
    good = docs(30, "g")
    pq.write_table(pa.Table.from_pylist(good), tmp_path / "a_good.parquet")
    nulls = docs(10, "n")
    for i in (2, 5):
        nulls[i]["text"] = None
    pq.write_table(pa.Table.from_pylist(nulls), tmp_path / "b_nulls.parquet")
    pq.write_table(pa.table({"id": ["m1"], "body": ["no text column"]}), tmp_path / "c_missing.parquet")
    pq.write_table(pa.table({"id": ["i1", "i2"], "text": [1, 2]}), tmp_path / "d_int.parquet")
    # Text stored as bytes (no UTF-8 annotation, as older Hive and Spark write it; one row not
    # UTF-8) and as a dictionary of strings (a pandas categorical) is text.
    pq.write_table(pa.table({"id": ["b1", "b2", "b3"], "text": pa.array(
        ["Bytes that are UTF-8 text, café.".encode(), b"\xff\xfe not UTF-8", "第三行是中文。".encode()], pa.binary())}),
        tmp_path / "g_bytes.parquet")
    pq.write_table(pa.table({"id": ["c1", "c2"], "text": pa.array(["a category", "another one"]).dictionary_encode()}),
                   tmp_path / "h_dict.parquet")
    (tmp_path / "e_corrupt.parquet").write_bytes(b"PAR1 this is not parquet at all" * 10)
    whole = (tmp_path / "a_good.parquet").read_bytes()
    (tmp_path / "f_cut.parquet").write_bytes(whole[: len(whole) // 2])
    jf = write_job(tmp_path, [], fmt="parquet", paths=["*.parquet"])
    res = run_cli("run", str(jf), "--quiet")
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out" / "clean"
    ids = {r["id"] for r in rows(out / "data")}
    assert ids == {d["id"] for d in good} | {d["id"] for d in nulls if d["text"] is not None} | {"b1", "b3", "c1", "c2"}
    assert {r["id"]: r["text"] for r in rows(out / "data") if r["id"] in ("b3", "c2")} == {"b3": "第三行是中文。",
                                                                                          "c2": "another one"}
    errs = {(Path(e["file"]).name, e["error"], e.get("line")) for e in errors(out / "errors")}
    assert ("g_bytes.parquet", "undecodable", 2) in errs and not {f for f, _, _ in errs if f == "h_dict.parquet"}
    assert {("b_nulls.parquet", "no_text", 3), ("b_nulls.parquet", "no_text", 6),
            ("c_missing.parquet", "missing_field", 1), ("d_int.parquet", "mistyped_field", 1)} <= errs
    assert {(f, k) for f, k, _ in errs if f in ("e_corrupt.parquet", "f_cut.parquet")} == \
        {("e_corrupt.parquet", "unreadable_file"), ("f_cut.parquet", "unreadable_file")}
    assert "errors" in run_cli("stats", str(tmp_path / "out")).stdout


def test_a_jsonl_file_read_as_warc_is_one_error_and_prints_nothing(tmp_path):
    (tmp_path / "x.jsonl").write_text("".join(json.dumps({"text": "word " * 5000}) + "\n" for _ in range(10)))
    jf = write_job(tmp_path, ["extract"], fmt="warc", paths=["x.jsonl"])
    res = run_cli("run", str(jf), "--quiet")
    assert res.returncode == 0 and len(res.stderr) < 2000, res.stderr[:3000]
    assert [e["error"] for e in errors(tmp_path / "out" / "clean" / "errors")] == ["not_warc"]


@pytest.mark.parametrize("steps, fmt, says", [
    ([{"language": {"min_score": 7}}], "jsonl", "stages.0.steps.0.language.min_score: must be between 0 and 1"),
    ([{"language": {"keep": ["english"]}}], "jsonl", "not a language code of lid.176: 'english' (did you mean 'en'?)"),
    ([{"gopher_quality": {"min_words": -5}}], "jsonl", "stages.0.steps.0.gopher_quality.min_words: must be >= 0"),
    ([{"gopher_quality": {"overrides": {"zh": {"max_symbol_to_word_ratio": 3}}}}], "jsonl",
     "overrides.zh.max_symbol_to_word_ratio: must be between 0 and 1"),
    (["gopher_quality", "extract"], "warc", "stages.0.steps.0.gopher_quality: needs column 'text'"),
])
def test_impossible_options_are_one_error_line_before_anything_runs(tmp_path, steps, fmt, says):
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs(3)))
    jf = write_job(tmp_path, steps, fmt=fmt, paths=["a.jsonl"])
    res = run_cli("run", str(jf), "--quiet")
    assert res.returncode == 2 and says in error_line(res)
    assert not (tmp_path / "out").exists()  # nothing ran


def test_output_folder_guard(tmp_path):
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs(20)))
    jf = write_job(tmp_path, [], paths=["a.jsonl"])
    out = tmp_path / "out"
    # An output path that is a file.
    (tmp_path / "afile").write_text("x")
    res = run_cli("run", str(jf), "--output", str(tmp_path / "afile"), "--quiet")
    assert res.returncode == 2 and "is a file, not a folder" in error_line(res)
    # A folder that holds another job: refused, then taken over with --force.
    (out / "_state").mkdir(parents=True)
    (out / "job.yaml").write_text(yaml.safe_dump({"name": "someone-else", "stages": []}))
    res = run_cli("run", str(jf), "--quiet")
    assert res.returncode == 2 and "holds job 'someone-else', not 'robust'" in error_line(res)
    res = run_cli("run", str(jf), "--quiet", "--force")
    assert res.returncode == 0 and "note: took over" in res.stderr
    assert len(rows(out / "clean" / "data")) == 20
    # A lock held by a live process (this test's): the second run fails at once, naming it.
    lock = out / "_state" / "lock.json"
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "since": "now", "token": "t"}))
    t0 = time.time()
    res = run_cli("run", str(jf), "--quiet")
    assert res.returncode == 2 and f"in use by a run on {socket.gethostname()} (pid {os.getpid()}" in error_line(res)
    assert time.time() - t0 < 30 and lock.exists()
    # A lock left by a run that died: taken over, and said.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid, "since": "then", "token": "t"}))
    res = run_cli("run", str(jf), "--quiet")
    assert res.returncode == 0 and "note: removed a stale lock" in res.stderr and not lock.exists()
    # A literal input path that does not exist: exit 2 at once.
    jf2 = write_job(tmp_path, [], paths=["missing.jsonl"])
    res = run_cli("run", str(jf2), "--output", str(tmp_path / "out2"), "--quiet")
    assert res.returncode == 2 and "input.paths: no such file:" in error_line(res)


@pytest.mark.slow
def test_a_second_run_on_the_same_output_fails_at_once_and_ctrl_c_is_quiet(tmp_path):
    big = "".join(json.dumps({"id": str(i), "text": f"Sentence number {i} of a long document. " * 40}) + "\n"
                  for i in range(30000))
    (tmp_path / "big.jsonl").write_text(big)
    jf = write_job(tmp_path, ["gopher_quality", "gopher_repetition"], paths=["big.jsonl"])
    first = subprocess.Popen([*CLI, "run", str(jf), "--quiet", "--workers", "1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    parts = tmp_path / "out" / "_state" / "clean" / "parts"
    deadline = time.time() + 120
    while time.time() < deadline and not list(parts.glob("*/*.done")):
        time.sleep(0.05)
    second = run_cli("run", str(jf), "--quiet")
    assert second.returncode == 2 and "in use by a run on" in error_line(second)
    os.killpg(first.pid, signal.SIGINT)  # Ctrl-C reaches the driver and its workers
    _, err = first.communicate(timeout=120)
    assert first.returncode == 130 and "Traceback" not in err, err[-3000:]
    assert err.strip().splitlines()[-1] == "error: interrupted; run the same command again to resume"
    res = run_cli("run", str(jf), "--quiet")  # the lock is gone; the run resumes
    assert res.returncode == 0 and "30,000 docs in" in res.stderr


def test_run_summary_and_status_of_every_stage_kind(quickstart_out: Path, tmp_path):
    res = run_cli("run", str(QUICKSTART), "--output", str(quickstart_out), "--quiet")
    assert res.returncode == 0
    assert "tokenize" in res.stderr and "tokens" in res.stderr and "done in" in res.stderr
    assert "cc-cleaner stats" in res.stderr
    status = run_cli("status", str(quickstart_out)).stdout
    assert " 0 parts" not in status and status.count("finished") == 5


@pytest.mark.slow
def test_spark_prints_no_banner_under_quiet(tmp_path):
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs(20)))
    jf = write_job(tmp_path, [], paths=["a.jsonl"])
    res = run_cli("run", str(jf), "--quiet", "--engine", "spark", "--workers", "1")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "WARN" not in res.stderr and "log level" not in res.stderr and len(res.stderr.splitlines()) < 8, \
        res.stderr


def test_progress_moves_per_part_and_a_changed_tokenize_config_is_refused(tmp_path):
    long = [{"id": str(i), "text": " ".join(f"word{(i * j) % 997} sentence." for j in range(300))} for i in range(4000)]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(d) + "\n" for d in long))
    job = {"name": "robust", "output": str(tmp_path / "out"), "input": {"format": "jsonl", "paths": ["a.jsonl"]},
           "stages": [{"name": "clean", "part_records": 250, "steps": ["gopher_quality", "gopher_repetition"]},
                      {"name": "tokenize", "tokenizer": {"tiktoken": "cl100k_base"}, "shard_tokens": 100_000}]}
    jf = tmp_path / "job.yaml"
    jf.write_text(yaml.safe_dump(job))
    res = run_cli("run", str(jf), "--workers", "1")
    assert res.returncode == 0
    bars = [ln for ln in res.stderr.replace("\r", "\n").splitlines() if ln.startswith("clean:")]
    parts = {int(m) for ln in bars for m in __import__("re").findall(r"parts (\d+)", ln)}
    assert max(parts) == 16 and len(parts) >= 3  # one file, and yet the bar moved part by part
    job["stages"][1]["shard_tokens"] = 200_000
    jf.write_text(yaml.safe_dump(job))
    res = run_cli("run", str(jf), "--quiet")
    assert res.returncode == 2 and "stage 'tokenize' changed" in error_line(res)
