"""The step API: small objects with a validated config, lazy setup and ``process(table)``.

A filter step computes its metric as a column and a per-row reason (``None`` keeps the
row); the base class splits kept from rejected rows, so scores and decisions stay separate
and thresholds can be studied from the stats without re-running.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from cc_cleaner.pipeline.documents import with_reason
from cc_cleaner.pipeline.plugins import import_object, load_plugins
from cc_cleaner.pipeline.store import Store, resolve_path

if TYPE_CHECKING:
    from cc_cleaner.pipeline.stages import Phases


class StepConfig(BaseModel):
    """A step's options. Numbers are never negative, and options named ``*_ratio``, ``*_score``
    or ``*_fraction`` (or dicts of them) lie in [0, 1]: a threshold outside that range would
    silently keep or drop everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _in_range(cls, value: Any, info: ValidationInfo) -> Any:
        unit = info.field_name.endswith(("_ratio", "_score", "_fraction"))
        values = value.values() if isinstance(value, dict) else [value]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float):
                continue
            if v < 0 or (unit and v > 1):
                raise ValueError(f"must be {'between 0 and 1' if unit else '>= 0'}, got {v}")
        return value


@dataclass(frozen=True)
class StepContext:
    """What a step may know about where it runs; all of it is part of the task's identity."""

    seed: int = 0
    stage: str = ""
    base_dir: str = "."  # folder of the job file: relative paths in configs resolve here

    def resolve(self, path: str) -> str:
        return resolve_path(self.base_dir, path)


@dataclass
class Histogram:
    """A histogram that a step fills from one of its columns; edges are fixed so parts merge."""

    column: str
    edges: list[float]
    threshold: float | dict[str, float] | None = None  # drawn in reports (a dict: one per language)


@dataclass
class StepResult:
    kept: pa.Table
    rejected: pa.Table  # the dropped rows with ``step`` and ``reason`` columns
    counters: dict[str, int] = field(default_factory=dict)


class Step:
    """Base class. Subclasses set ``name`` and ``Config`` and implement ``process``."""

    name: ClassVar[str] = ""
    Config: ClassVar[type[StepConfig]] = StepConfig
    # Columns the step reads, adds and removes: a job's chain of steps is checked against them
    # when it loads (a step that needs `text` cannot come before `extract` on WARC input).
    needs: ClassVar[frozenset[str]] = frozenset({"text"})
    adds: ClassVar[frozenset[str]] = frozenset()
    removes: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, config: StepConfig, ctx: StepContext) -> None:
        self.config = config
        self.ctx = ctx

    def setup(self) -> None:
        """Load models and files. Called once per worker process, before the first batch."""

    def check(self) -> None:
        """What the driver runs before any task: raise if setup would fail (a missing file, a bad
        model). By default the setup itself; a step whose setup is costly and cannot fail on the
        config overrides it, so that only the workers pay for the setup."""
        self.setup()

    @classmethod
    def join_phases(cls, config: Any, ctx: StepContext, store: Store, tasks: list[Any]) -> Phases:
        """Phases a map stage runs before its ``tasks`` for this step: a table joined to the
        documents through a partitioned shuffle (robots.txt by origin), so that no worker holds
        the whole table. None by default."""
        return []

    def start_task(self, store: Store, task_index: int) -> None:
        """Before a map task's first part: what the join phases left for this task."""

    def histograms(self) -> list[Histogram]:
        return []

    def process(self, table: pa.Table) -> StepResult:
        raise NotImplementedError


@dataclass
class Evaluation:
    columns: dict[str, pa.Array | np.ndarray | list]  # added to every row (kept and rejected)
    reasons: list[str | None]  # None keeps the row
    counters: dict[str, int] = field(default_factory=dict)


class FilterStep(Step):
    """A step that scores rows and drops some; subclasses implement ``evaluate``."""

    def evaluate(self, table: pa.Table) -> Evaluation:
        raise NotImplementedError

    def process(self, table: pa.Table) -> StepResult:
        ev = self.evaluate(table)
        for col, values in ev.columns.items():
            arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
            if col in table.column_names:
                table = table.set_column(table.column_names.index(col), col, arr)
            else:
                table = table.append_column(col, arr)
        return split_by_reasons(table, self.name, ev.reasons, ev.counters)


def split_by_reasons(
    table: pa.Table, step: str, reasons: list[str | None], counters: dict[str, int] | None = None
) -> StepResult:
    keep = pa.array([r is None for r in reasons], pa.bool_())
    kept = table.filter(keep)
    dropped_reasons = [r for r in reasons if r is not None]
    rejected = with_reason(table.filter(pc.invert(keep)), step, dropped_reasons)
    return StepResult(kept, rejected, counters or {})


# --- registry --------------------------------------------------------------------------

STEPS: dict[str, type[Step]] = {}


def register(cls: type[Step]) -> type[Step]:
    if not cls.name or cls.name in STEPS:
        raise ValueError(f"step name missing or taken: {cls.name!r}")
    STEPS[cls.name] = cls
    return cls


def step_class(name: str) -> type[Step]:
    """A registered step by name, or a user's step class by dotted path (``mypkg.mod:MyStep``)."""
    if ":" in name:
        try:
            cls = import_object(name)
        except ValueError as e:
            raise KeyError(f"step {e}") from None
        if not (isinstance(cls, type) and issubclass(cls, Step)):
            raise KeyError(f"step {name!r} is not a subclass of cc_cleaner.pipeline.step.Step")
        return cls
    load_plugins()
    try:
        return STEPS[name]
    except KeyError:
        raise KeyError(f"unknown step {name!r}; known steps: {', '.join(sorted(STEPS))} "
                       "(or a class by dotted path, package.module:Class)") from None


_WORKER_STEPS: dict[str, Step] = {}


def check_step(name: str, config: dict[str, Any], ctx: StepContext) -> None:
    """The driver's check of a step before any task runs (``Step.check``). A step checked by its
    whole setup is kept, so that tasks run in this process do not set it up again."""
    cls = step_class(name)
    if cls.check is Step.check:
        get_step(name, config, ctx)
    else:
        cls(cls.Config.model_validate(config), ctx).check()


def get_step(name: str, config: dict[str, Any], ctx: StepContext) -> Step:
    """The set-up step for this worker process, built once and reused across tasks and batches."""
    key = json.dumps([name, config, ctx.seed, ctx.stage, ctx.base_dir], sort_keys=True, default=str)
    step = _WORKER_STEPS.get(key)
    if step is None:
        cls = step_class(name)
        step = cls(cls.Config.model_validate(config), ctx)
        step.setup()
        _WORKER_STEPS[key] = step
    return step
