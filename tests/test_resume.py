"""A job killed with SIGKILL mid-stage and run again writes exactly what an uninterrupted run writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from conftest import SHARED, shared_path
from helpers import article_pages, tree_digest, write_warc

pytestmark = pytest.mark.slow


def make_job(tmp: Path) -> Path:
    pages = article_pages(SHARED, limit=120)
    write_warc(tmp / "a.warc.gz", pages[::2])
    write_warc(tmp / "b.warc.gz", pages[1::2])
    job = {"name": "resume", "seed": 7, "output": "out",
           "input": {"format": "warc", "paths": ["*.warc.gz"]},
           "stages": [{"name": "extract", "part_records": 6, "steps": ["extract"]}]}
    jf = tmp / "job.yaml"
    jf.write_text(yaml.safe_dump(job))
    return jf


def run(jf: Path, out: Path, **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "cc_cleaner.jobs.cli", "run", str(jf), "--output", str(out),
           "--workers", "2", "--quiet"]
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def test_sigkill_mid_stage_then_resume_is_byte_identical(tmp_path: Path):
    shared_path("html_extraction", "article_extraction_benchmark")
    jf = make_job(tmp_path)
    ref = tmp_path / "ref"
    assert run(jf, ref).wait(timeout=300) == 0
    expected = tree_digest(ref)
    assert len(expected) >= 20

    out = tmp_path / "killed"
    proc = run(jf, out)
    parts = out / "_state" / "extract" / "parts"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(parts.glob("*/*.done"))) < 5:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, mid-stage
    proc.wait()
    done_before = len(list(parts.glob("*/*.done")))
    assert 5 <= done_before < 20, "the kill must land mid-stage"
    assert not (out / "_state" / "extract" / "_SUCCESS").exists()

    assert run(jf, out).wait(timeout=300) == 0
    assert tree_digest(out) == expected
    ids = [i for p in sorted((out / "extract" / "data").glob("*.parquet")) for i in pq.read_table(p)["id"].to_pylist()]
    ref_ids = [i for p in sorted((ref / "extract" / "data").glob("*.parquet"))
               for i in pq.read_table(p)["id"].to_pylist()]
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(ref_ids)
    assert not [p for p in out.rglob(".*tmp-*")], "temporary files are cleaned up"
