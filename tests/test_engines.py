"""The same jobs on local Ray and local Spark: byte-identical outputs, retries, failures named."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

import cc_cleaner.jobs.cli as cli_module
from cc_cleaner.pipeline.engines import Resources, TaskFailed, get_engine
from cc_cleaner.pipeline.job import load_job
from cc_cleaner.pipeline.runner import run_job

from conftest import QUICKSTART, SHARED, shared_path
from helpers import always_raise, article_pages, ray_assigned, square, tree_digest, write_warc

pytestmark = pytest.mark.slow
FOLDERS = ("data", "rejected", "errors", "shards")


def run_on(engine, job_file: Path, out: Path) -> dict[str, str]:
    run_job(load_job(str(job_file), str(out)), engine, progress=False)
    digest = tree_digest(out, FOLDERS)
    digest["manifest"] = (out / "tokenize" / "manifest.json").read_text() if (out / "tokenize").exists() else ""
    return digest


@pytest.fixture(scope="module")
def local_quickstart(tmp_path_factory) -> dict[str, str]:
    eng = get_engine("local", 2)
    try:
        return run_on(eng, QUICKSTART, tmp_path_factory.mktemp("local") / "out")
    finally:
        eng.close()


def _workers_import_tests() -> None:
    """Ray and Spark workers inherit this environment: they can then import tests/helpers.py."""
    here = str(Path(__file__).parent)
    if here not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)


@pytest.fixture(scope="module")
def ray_engine():
    _workers_import_tests()
    eng = get_engine("ray", 2)
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def spark_engine():
    _workers_import_tests()
    eng = get_engine("spark", 2)
    yield eng
    eng.close()


def test_quickstart_on_ray_is_byte_identical(ray_engine, local_quickstart, tmp_path):
    assert run_on(ray_engine, QUICKSTART, tmp_path / "ray") == local_quickstart


def test_quickstart_on_spark_is_byte_identical(spark_engine, local_quickstart, tmp_path):
    assert run_on(spark_engine, QUICKSTART, tmp_path / "spark") == local_quickstart


def test_spark_submit_entry_point(local_quickstart, tmp_path):
    """The documented spark-submit command: the driver keeps spark-submit's --master."""
    import pyspark

    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
           "SPARK_LOCAL_IP": "127.0.0.1"}
    res = subprocess.run([str(submit), "--master", "local[1,2]", cli_module.__file__, "run", str(QUICKSTART),
                          "--engine", "spark", "--output", str(tmp_path / "out"), "--quiet"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    # spark-submit passes the Python driver's stderr on through its own stdout.
    assert "engine: spark, master local[1,2], 1 workers" in res.stdout + res.stderr
    digest = tree_digest(tmp_path / "out", FOLDERS)
    digest["manifest"] = (tmp_path / "out" / "tokenize" / "manifest.json").read_text()
    assert digest == local_quickstart


def test_ray_failing_task_is_named(ray_engine):
    assert ray_engine.run([2, 3], square) == [4, 9]
    with pytest.raises(TaskFailed, match="failed 3 attempts: ValueError: bad input 5"):
        ray_engine.run([5], always_raise)


def test_ray_stage_resources_are_reserved(ray_engine):
    assert ray_engine.run([0], ray_assigned) == [{"CPU": 1.0}]
    got = ray_engine.run([0], ray_assigned, resources=Resources(cpus=2, memory_gb=0.25))[0]
    assert got["CPU"] == 2.0 and got["memory"] == 0.25 * 2**30


def test_spark_failing_task_is_named(spark_engine):
    assert spark_engine.run([2, 3], square) == [4, 9]
    with pytest.raises(TaskFailed, match=r"ValueError: bad input 7 \(after 3 attempts\)"):
        spark_engine.run([7], always_raise)


def _ray_task_pids() -> list[int]:
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = Path(f"/proc/{d}/cmdline").read_bytes()
            except OSError:
                continue
            if cmd.startswith(b"ray::_call"):
                pids.append(int(d))
    return pids


def test_ray_worker_killed_mid_task_same_output(ray_engine, tmp_path):
    shared_path("html_extraction", "article_extraction_benchmark")
    pages = article_pages(SHARED, limit=80)
    write_warc(tmp_path / "a.warc.gz", pages[::2])
    write_warc(tmp_path / "b.warc.gz", pages[1::2])
    jf = tmp_path / "job.yaml"
    jf.write_text(yaml.safe_dump({"name": "kill", "output": "out", "input": {"format": "warc", "paths": ["*.warc.gz"]},
                                  "stages": [{"name": "extract", "part_records": 10, "steps": ["extract"]}]}))
    local = get_engine("local", 2)
    try:
        expected = run_on(local, jf, tmp_path / "local")
    finally:
        local.close()
    killed: list[int] = []

    def killer() -> None:
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            for pid in _ray_task_pids():
                if (tmp_path / "ray" / "_state" / "extract" / "parts").exists():  # mid-task: a part is done
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
            time.sleep(0.01)

    th = threading.Thread(target=killer)
    th.start()
    got = run_on(ray_engine, jf, tmp_path / "ray")
    th.join()
    assert killed, "no Ray worker was killed mid-task"
    assert got == expected


def test_user_step_runs_on_every_engine(ray_engine, spark_engine, tmp_path):
    """A step from the user's own package (tests/userpkg), named by dotted path: workers of every
    engine import it, and the outputs are byte-identical."""
    from test_structure import _jsonl_job

    from cc_cleaner.pipeline.job import Job

    spec = _jsonl_job(tmp_path, [{"userpkg.steps:TitleCaseRatio": {"max_ratio": 0.6}}])
    digests = {}
    local = get_engine("local", 2)
    try:
        for name, eng in (("local", local), ("ray", ray_engine), ("spark", spark_engine)):
            job = Job.from_dict({**spec, "output": str(tmp_path / name)}, base_dir=str(tmp_path))
            rep = run_job(job, eng, progress=False)
            assert rep.stages[0].docs_out == 20
            digests[name] = {k.split("/", 1)[1]: v for k, v in tree_digest(tmp_path / name).items()}
    finally:
        local.close()
    assert any(k.startswith("rejected/") for k in digests["local"])
    assert digests["local"] == digests["ray"] == digests["spark"]


def test_corpus_versions_shards_are_the_same_on_every_engine(ray_engine, spark_engine, tmp_path):
    """The hand-over between corpus versions depends only on the shards (tests/test_versions.py):
    version 2 of that test built on Ray and on Spark gives the local engine's shards byte for byte."""
    from test_versions import version, version_job, write_inputs

    write_inputs(tmp_path)
    local = version(tmp_path, "local", min_words=250, extra=True)
    digests = {}
    for name, eng in (("ray", ray_engine), ("spark", spark_engine)):
        run_job(version_job(tmp_path, name, min_words=250, extra=True), eng, progress=False)
        digests[name] = tree_digest(tmp_path / name, ("shards",))
    assert digests["ray"] == digests["spark"] == tree_digest(local, ("shards",))
