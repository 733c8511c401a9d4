"""`cc-cleaner submit`: the quickstart through Ray Jobs on a local Ray head with its dashboard."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import QUICKSTART, cli
from helpers import tree_digest

pytestmark = pytest.mark.slow

HEAD = """
import sys, ray
ray.init(address="local", num_cpus=2, include_dashboard=True, dashboard_host="127.0.0.1",
         dashboard_port=int(sys.argv[1]), log_to_driver=False)
print("READY", flush=True)
sys.stdin.read()  # runs until the test closes stdin
ray.shutdown()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_dashboard():
    """A Ray head started by a driver process (not `ray start`, so no `ray stop` is needed)."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", HEAD, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        if "READY" not in line:
            pytest.fail(f"the Ray head did not start (exit {proc.poll()})")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stdin.close()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_submit_runs_the_quickstart_on_the_cluster(ray_dashboard, quickstart_out: Path, tmp_path: Path):
    out = tmp_path / "out"
    log = cli("submit", str(QUICKSTART), "--address", ray_dashboard, "--output", str(out), "--python",
              sys.executable, "--wait")
    assert "done in " in log and "tokenize " in log
    # The cluster reads the inputs from its copy of the working dir: task names (which hash the input
    # path) and the input paths recorded in errors/ differ; the files' contents may not.
    assert _contents(out) == _contents(quickstart_out)


def _contents(root: Path) -> dict[str, list[str]]:
    by_folder: dict[str, list[str]] = {}
    for rel, digest in tree_digest(root, ("data", "rejected", "shards")).items():
        stage, folder = rel.split("/")[:2]
        by_folder.setdefault(f"{stage}/{folder}", []).append(digest)
    return {k: sorted(v) for k, v in by_folder.items()}


def test_submit_errors_are_one_line(tmp_path: Path):
    port = _free_port()  # nothing listens there
    out = cli("submit", str(QUICKSTART), "--address", f"http://127.0.0.1:{port}", "--output", str(tmp_path),
              code=2)
    assert out.strip().splitlines()[-1].startswith(f"error: cannot reach the Ray dashboard at http://127.0.0.1:{port}")
