"""A job: its validated spec (what a YAML file loads into), its paths and its stage hashes.

Python API, the same objects the command line uses::

    job = Job.from_yaml("job.yaml")                     # or Job.from_dict({...}, base_dir=".")
    report = job.run(engine="local", workers=4)         # resumes like `cc-cleaner run`

Relative paths written in a job resolve against the job file's folder (``base_dir``); an
``output`` given as an argument resolves against the current directory.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    create_model,
    model_validator,
)

from cc_cleaner.pipeline.readers import InputConfig
from cc_cleaner.pipeline.stages import ColumnError, StageKind, kind_of, stage_kinds
from cc_cleaner.pipeline.store import resolve_path

if TYPE_CHECKING:
    from cc_cleaner.pipeline.runner import JobReport

STAGE_NAME = r"^[a-z0-9][a-z0-9_-]*$"


class JobError(ValueError):
    """A problem with the job file; the message is one or more ``field: problem`` lines."""


class JobSpec(BaseModel):
    """The job as written. ``stages`` holds one spec per stage, of the registered stage kinds
    (``pipeline.stages``); validate through :func:`job_model` so that each is checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=STAGE_NAME)
    seed: int = 0
    output: str
    input: InputConfig
    stages: list[Any] = Field(min_length=1)
    # Redact personal data (pipeline.redact) in the text of rejected/ rows of every stage, so that
    # documents dropped before (or without) a pii step do not keep it there.
    redact_rejected: bool = False

    @model_validator(mode="after")
    def _unique_stage_names(self) -> JobSpec:
        names = [s.name for s in self.stages]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"stage names must be unique; repeated: {', '.join(sorted(dup))}")
        return self


def job_model() -> type[JobSpec]:
    """JobSpec with ``stages`` typed as the union of every registered stage kind."""
    kinds = stage_kinds()
    return _job_model(tuple(kinds.values()))


@cache
def _job_model(kinds: tuple[StageKind, ...]) -> type[JobSpec]:
    def tag(data: Any) -> str | None:
        if not isinstance(data, dict):
            return next((k.name for k in kinds if isinstance(data, k.spec)), None)
        return next((k.name for k in kinds if k.keys & set(data)), None)

    union = Union[tuple(Annotated[k.spec, Tag(k.name)] for k in kinds)]  # noqa: UP007  (built at run time)
    said = [k.described for k in kinds]
    wanted = ", ".join(said[:-1]) + f" or {said[-1]}" if len(said) > 1 else said[0]
    stage = Annotated[union, Discriminator(tag, custom_error_type="stage_kind",
                                           custom_error_message=f"a stage needs {wanted}")]
    return create_model("JobSpec", __base__=JobSpec, stages=(list[stage], Field(min_length=1)))


class Job:
    """A validated job with its paths resolved."""

    def __init__(self, spec: JobSpec, base_dir: str) -> None:
        self.spec = spec
        self.base_dir = base_dir

    @classmethod
    def from_dict(cls, data: Any, base_dir: str = ".", output: str | None = None) -> Job:
        return parse_job(data, base_dir, output)

    @classmethod
    def from_yaml(cls, path: str, output: str | None = None) -> Job:
        return load_job(path, output)

    @property
    def output(self) -> str:
        return self.spec.output

    def stage_hash(self, index: int) -> str:
        """Hash of everything that decides a stage's output: its spec, the input, seed, upstream."""
        s = self.spec
        # Resources decide where tasks run, never what they write.
        payload = {"format": 1, "seed": s.seed, "stage": s.stages[index].model_dump(mode="json", exclude={"resources"}),
                   "upstream": self.stage_hash(index - 1) if index else None,
                   "input": s.input.model_dump(mode="json") if index == 0 else None}
        if s.redact_rejected:  # only when set, so that hashes of earlier outputs stay valid
            payload["redact_rejected"] = True
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True)

    def run(self, engine: str = "local", workers: int | None = None, restart_from: str | None = None,
            progress: bool = False, force: bool = False, **engine_options: Any) -> JobReport:
        """Run (or resume) the job on ``engine`` (local, ray or spark); raises on failure.
        ``force``: take over an output folder that holds another job's files."""
        from cc_cleaner.pipeline.engines import get_engine
        from cc_cleaner.pipeline.runner import run_job

        eng = get_engine(engine, workers, **engine_options)
        try:
            return run_job(self, eng, restart_from=restart_from, progress=progress, force=force)
        finally:
            eng.close()


def format_validation_error(e: ValidationError) -> str:
    kinds = stage_kinds()
    lines = []
    for err in e.errors():
        parts = list(err["loc"])
        if len(parts) > 2 and parts[0] == "stages" and parts[2] in kinds:
            del parts[2]  # the union's tag, not a field the user wrote
        loc = ".".join(str(x) for x in parts)
        msg = err["msg"].removeprefix("Value error, ")
        for one in msg.split("\n"):
            # A nested model's own lines ("steps.0.language.keep: ...") carry their location.
            if parts and one.startswith(f"{parts[-1]}."):
                lines.append(".".join(str(x) for x in parts[:-1]) + f".{one}")
            else:
                lines.append(f"{loc}: {one}" if loc else one)
    return "\n".join(lines)


def parse_job(data: Any, base_dir: str, output: str | None = None) -> Job:
    if not isinstance(data, dict):
        raise JobError("the job file must be a YAML mapping")
    data = dict(data)
    if output is not None:
        data["output"] = resolve_path(os.getcwd(), output)
    elif isinstance(data.get("output"), str):
        data["output"] = resolve_path(base_dir, data["output"])
    inp = data.get("input")
    if isinstance(inp, dict) and isinstance(inp.get("paths"), list):
        data["input"] = {**inp, "paths": [resolve_path(base_dir, p) if isinstance(p, str) else p for p in inp["paths"]]}
    try:
        spec = job_model().model_validate(data)
    except ValidationError as e:
        raise JobError(format_validation_error(e)) from None
    check_columns(spec)
    return Job(spec, os.path.abspath(base_dir))


def check_columns(spec: JobSpec) -> None:
    """Walk the stages with the columns the documents have at each point: a step or stage that
    needs one they lack is a job error naming it, before anything runs."""
    cols = spec.input.columns()
    for i, stage in enumerate(spec.stages):
        if i == 0 and not kind_of(stage).first:
            raise JobError(f"stages.0 ({stage.name}): a {kind_of(stage).name} stage reads what a stage before it "
                           "wrote; start with a stage of `steps`")
        try:
            cols = kind_of(stage).output_columns(stage, cols)
        except ColumnError as e:
            raise JobError(f"stages.{i}.{e}" if e.where else f"stages.{i} ({stage.name}): {e}") from None


def load_job(path: str, output: str | None = None) -> Job:
    p = Path(path)
    if not p.is_file():
        raise JobError(f"job file not found: {path}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise JobError(f"{path}: not valid YAML: {e}") from None
    return parse_job(data, str(p.parent), output)
