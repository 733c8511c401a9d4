"""The output folder's layout and the task contract: every path a stage writes or reads is named here.

```
OUT/job.yaml
OUT/_state/<stage>/config_hash, phases.json, _SUCCESS
OUT/_state/<stage>/<phase>/<task>.done        a task's completion marker (written last)
OUT/_state/<stage>/parts/<task>/pNNNNN.done   a map task's finished parts
OUT/<stage>/{data,rejected}/<part>.parquet    <part> = <task>-pNNNNN
OUT/<stage>/errors/<part>.jsonl, stats/<part>.json
OUT/<stage>/_shuffle/<name>/pNNNNN/<producer>.arrow     intermediates between phases (Arrow IPC)
```

A part's outputs are written with :func:`write_part` in one order (data, rejected, errors,
stats), each file atomically (``Store``), and only then is its marker written, so a marker
always means every file of the part is whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyarrow as pa

from cc_cleaner.pipeline.redact import redact_table
from cc_cleaner.pipeline.stats import PartStats
from cc_cleaner.pipeline.store import Store

JOB_FILE = "job.yaml"
LOCK_FILE = "_state/lock.json"  # the run that holds the folder (pipeline.guard)
_PART = re.compile(r"^(?P<task>.+)-p(?P<index>\d{5})$")


def state_dir(stage: str) -> str:
    return f"_state/{stage}"


def config_hash_file(stage: str) -> str:
    return f"{state_dir(stage)}/config_hash"


def phases_file(stage: str) -> str:
    return f"{state_dir(stage)}/phases.json"


def success_file(stage: str) -> str:
    return f"{state_dir(stage)}/_SUCCESS"


def summary_file(stage: str) -> str:
    """The merged stats of a finished stage, written once (``stats`` reads it instead of every part)."""
    return f"{state_dir(stage)}/summary.json"


def wall_file(stage: str) -> str:
    """Wall seconds spent on the stage, per phase, summed over the runs that worked on it."""
    return f"{state_dir(stage)}/wall.json"


def done_markers(store: Store, stage: str) -> set[str]:
    """Every completion marker of a stage, from one recursive listing (not one check per task)."""
    base = store.path(state_dir(stage))
    if not store.fs.exists(base):
        return set()
    root = store.path("")
    return {p[len(root):].lstrip("/") for p in store.fs.find(base) if p.endswith(".done")}


def task_marker(stage: str, phase: str, task: str) -> str:
    return f"{state_dir(stage)}/{phase}/{task}.done"


def parts_dir(stage: str, task: str) -> str:
    """Where a map task marks its finished parts."""
    return f"{state_dir(stage)}/parts/{task}"


def part_marker(stage: str, task: str, index: int) -> str:
    return f"{parts_dir(stage, task)}/p{index:05d}.done"


def part_name(task: str, index: int) -> str:
    return f"{task}-p{index:05d}"


def part_of(path: str) -> str:
    """The part name of an output file (``.../data/<task>-p00003.parquet`` -> ``<task>-p00003``)."""
    return path.rsplit("/", 1)[-1].split(".", 1)[0]


def task_of(part: str) -> str:
    m = _PART.match(part)
    if m is None:
        raise ValueError(f"not a part name: {part!r}")
    return m["task"]


def data_dir(stage: str) -> str:
    return f"{stage}/data"


def rejected_dir(stage: str) -> str:
    return f"{stage}/rejected"


def data_file(stage: str, part: str) -> str:
    return f"{data_dir(stage)}/{part}.parquet"


def rejected_file(stage: str, part: str) -> str:
    return f"{rejected_dir(stage)}/{part}.parquet"


def errors_file(stage: str, part: str) -> str:
    return f"{stage}/errors/{part}.jsonl"


def stats_dir(stage: str) -> str:
    return f"{stage}/stats"


def stats_file(stage: str, part: str) -> str:
    return f"{stats_dir(stage)}/{part}.json"


def shuffle_dir(stage: str, name: str, partition: int) -> str:
    return f"{stage}/_shuffle/{name}/p{partition:05d}"


def upstream_groups(store: Store, stage: str) -> dict[str, list[str]]:
    """A finished stage's data files grouped by the task that wrote them, in part order."""
    groups: dict[str, list[str]] = {}
    for rel in store.list(data_dir(stage), ".parquet"):
        groups.setdefault(task_of(part_of(rel)), []).append(store.path(rel))
    return dict(sorted(groups.items()))


def write_part(store: Store, stage: str, part: str, stats: PartStats | str, kept: pa.Table | None = None,
               rejected: Iterable[pa.Table] = (), errors: Iterable[str] = (), redact: bool = False,
               marker: str | None = None) -> None:
    """Write one part's outputs, then its marker (if any).

    ``rejected``: the tables of rows the part's steps dropped (one file, when they hold any row;
    text redacted when ``redact``); ``errors``: JSON lines of bad input records; ``stats``: the
    part's stats (or their JSON)."""
    if kept is not None:
        store.write_table(data_file(stage, part), kept)
    rej = list(rejected)
    if sum(t.num_rows for t in rej):
        table = pa.concat_tables(rej, promote_options="default") if len(rej) > 1 else rej[0]
        store.write_table(rejected_file(stage, part), redact_table(table) if redact else table)
    lines = "".join(line + "\n" for line in errors)
    if lines:
        store.write_text(errors_file(stage, part), lines)
    store.write_text(stats_file(stage, part), stats if isinstance(stats, str) else stats.to_json())
    if marker is not None:
        store.write_text(marker, "")
