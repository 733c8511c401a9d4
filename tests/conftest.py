from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CC_CLEANER_SHARED_DATA", REPO.parent / "shared" / "data"))
QUICKSTART = REPO / "jobs" / "examples" / "quickstart.yaml"

# Spawned worker processes import helpers from this folder.
sys.path.insert(0, str(Path(__file__).parent))


def shared_path(*parts: str) -> Path:
    """A path in ../shared/data; the test skips with the reason when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared test data not found: {p} (set CC_CLEANER_SHARED_DATA to its folder)")
    return p


@pytest.fixture
def shared() -> type:
    class _S:
        path = staticmethod(shared_path)

    return _S
