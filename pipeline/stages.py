"""Stage kinds: each module that defines one registers it here (the runner dispatches by kind).

A kind is told apart in a job file by its keys (``steps`` for a map stage, ``tokenizer`` for
tokenize, ...); its ``phases`` function plans the stage's phases of tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cc_cleaner.pipeline.plugins import load_plugins

if TYPE_CHECKING:
    from cc_cleaner.pipeline.job import Job
    from cc_cleaner.pipeline.store import Store

# (phase name, planner): a phase's tasks are planned once the phase before it is done, and a
# generator's next phase is asked for only then (so a kind can plan rounds until they converge).
Phases = Iterable[tuple[str, Callable[[], list[Any]]]]


@dataclass(frozen=True)
class StageKind:
    name: str
    spec: type[BaseModel]  # the stage's config model; it has ``name`` and ``resources`` fields
    keys: frozenset[str]  # a stage mapping holding any of these keys is of this kind
    phases: Callable[[Job, Store, int], Phases]
    first: bool = False  # can read the job's input (only map stages can)
    described: str = ""  # how the job-file error names the kind's keys
    # The columns its documents have after the stage, given those they come with; raises
    # ColumnError when the stage needs one they lack. Default: needs `text`, keeps all.
    columns: Callable[[Any, frozenset[str]], frozenset[str]] | None = None

    def output_columns(self, spec: Any, given: frozenset[str]) -> frozenset[str]:
        if self.columns is not None:
            return self.columns(spec, given)
        if "text" not in given:
            raise ColumnError("", "text", given)
        return given


class ColumnError(ValueError):
    """A stage or step needs a column the documents do not have at that point."""

    def __init__(self, where: str, column: str, given: frozenset[str]) -> None:
        hint = " (add `extract` before it: WARC input has `html`, not `text`)" if column == "text" and \
            "html" in given else ""
        super().__init__(f"{where + ': ' if where else ''}needs column {column!r}, which the documents do not "
                         f"have there (they have: {', '.join(sorted(given))}){hint}")
        self.where = where


STAGE_KINDS: dict[str, StageKind] = {}


def register_stage_kind(kind: StageKind) -> StageKind:
    if kind.name in STAGE_KINDS and STAGE_KINDS[kind.name] != kind:
        raise ValueError(f"stage kind {kind.name!r} is registered twice")
    STAGE_KINDS[kind.name] = kind
    return kind


def stage_kinds() -> dict[str, StageKind]:
    """Every known kind: the core's own and those of the installed plugins."""
    from cc_cleaner.pipeline import map_stage, tokenize_stage  # noqa: F401  (they register themselves)

    load_plugins()
    return STAGE_KINDS


def kind_of(spec: Any) -> StageKind:
    for kind in stage_kinds().values():
        if isinstance(spec, kind.spec):
            return kind
    raise ValueError(f"not a stage spec: {type(spec).__name__}")
