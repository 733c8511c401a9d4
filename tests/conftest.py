from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CC_CLEANER_SHARED_DATA", REPO.parent / "shared" / "data"))
QUICKSTART = REPO / "jobs" / "examples" / "quickstart.yaml"

# Ready-to-map decontamination indexes go to a folder of this run, not the user's cache.
os.environ.setdefault("CC_CLEANER_CACHE", str(Path(__import__("tempfile").mkdtemp(prefix="cc-cache-"))))

# Spawned worker processes import helpers from this folder.
sys.path.insert(0, str(Path(__file__).parent))


# CI sets this (.ci/run): a test that needs the shared data then fails instead of skipping.
REQUIRE_SHARED = os.environ.get("CC_CLEANER_REQUIRE_SHARED_DATA", "") not in ("", "0")


def shared_path(*parts: str) -> Path:
    """A path in ../shared/data; the test skips with the reason when it is absent (fails in CI)."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        msg = f"shared test data not found: {p} (set CC_CLEANER_SHARED_DATA to its folder)"
        if REQUIRE_SHARED:
            pytest.fail(msg + "; CC_CLEANER_REQUIRE_SHARED_DATA is set")
        pytest.skip(msg)
    return p


@pytest.fixture
def shared() -> type:
    class _S:
        path = staticmethod(shared_path)

    return _S


def cli(*args: str, code: int = 0) -> str:
    """Run ``cc-cleaner ARGS`` in this process; asserts the exit code, returns stdout and stderr."""
    from click.testing import CliRunner

    from cc_cleaner.jobs.cli import main

    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert res.exit_code == code, res.output
    return res.output


@pytest.fixture(scope="session")
def quickstart_out(tmp_path_factory) -> Path:
    """The quickstart job's output (local engine, 2 workers), run once per test session."""
    out = tmp_path_factory.mktemp("qs") / "out"
    cli("run", str(QUICKSTART), "--output", str(out), "--workers", "2", "--quiet")
    return out
