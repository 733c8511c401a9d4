from __future__ import annotations

import pytest

from cc_cleaner.pipeline.engines import Resources, TaskFailed
from cc_cleaner.pipeline.engines.local import LocalEngine

from helpers import always_raise, die_once, sleep_span, square


def test_results_in_task_order():
    eng = LocalEngine(2)
    try:
        assert eng.run(list(range(10)), square) == [i * i for i in range(10)]
    finally:
        eng.close()


def test_killed_worker_is_retried(tmp_path):
    eng = LocalEngine(2)
    try:
        markers = [str(tmp_path / f"m{i}") for i in range(4)]
        assert eng.run(markers, die_once) == ["survived"] * 4
    finally:
        eng.close()


def test_failing_task_stops_with_its_input_named():
    eng = LocalEngine(2, max_attempts=2)
    try:
        with pytest.raises(TaskFailed, match=r"failed 2 attempts: ValueError: bad input 3"):
            eng.run([3], always_raise)
    finally:
        eng.close()


def test_task_that_always_kills_its_worker_fails_alone():
    """Tasks in flight beside a task that kills its worker are re-run and not charged; only the
    killer is named, after its own attempts."""
    from helpers import die_on_negative

    eng = LocalEngine(2, max_attempts=2)
    done: list[float] = []
    try:
        with pytest.raises(TaskFailed, match=r"^\S*-1\S* failed 2 attempts: its worker process died"):
            eng.run([1.0, -1.0, 2.0, 3.0, 4.0, 5.0], die_on_negative, lambda t, r: done.append(t))
    finally:
        eng.close()
    # 1.0 ran beside the killer (done, or in flight when the worker died and then re-run alone).
    assert 1.0 in done and -1.0 not in done


def _max_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    now = best = 0
    for _, d in events:
        now += d
        best = max(best, now)
    return best


def test_stage_resources_limit_tasks_at_once():
    eng = LocalEngine(4)
    try:
        assert eng.slots(None) == 4 and eng.slots(Resources(cpus=2)) == 2 and eng.slots(Resources(cpus=8)) == 1
        assert eng.slots(Resources(memory_gb=1e6)) == 1  # a task that needs more memory than there is runs alone
        spans = eng.run([0.4] * 4, sleep_span, resources=Resources(cpus=2))
        assert _max_overlap(spans) == 2
    finally:
        eng.close()
