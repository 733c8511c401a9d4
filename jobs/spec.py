"""Job specs: YAML validated by pydantic. Unknown keys and bad values are errors naming the field.

Relative paths written in a job file resolve against the job file's folder; paths given on
the command line resolve against the current directory.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from cc_cleaner.dedup.docs import DedupDocsSpec
from cc_cleaner.dedup.strings import DedupStringsSpec
from cc_cleaner.pipeline.engines import Resources
from cc_cleaner.pipeline.readers import InputConfig
from cc_cleaner.pipeline.step import step_class
from cc_cleaner.pipeline.tokenizer import TokenizerSpec

STAGE_NAME = r"^[a-z0-9][a-z0-9_-]*$"


class JobError(ValueError):
    """A problem with the job file; the message is one or more ``field: problem`` lines."""


class MapStageSpec(BaseModel):
    """A chain of steps fused into one pass per input shard."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=STAGE_NAME)
    steps: list[dict[str, Any]] = []  # none: the stage only reads its input into Parquet
    part_records: int = Field(default=2000, gt=0)  # input records per checkpointed part
    resources: Resources = Resources()

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, steps: Any) -> Any:
        if not isinstance(steps, list):
            return steps
        out = []
        for i, item in enumerate(steps):
            if isinstance(item, str):
                item = {item: {}}
            if not isinstance(item, dict) or len(item) != 1:
                raise ValueError(f"steps.{i}: each step is one mapping 'name: {{config}}'")
            (name, cfg), = item.items()
            try:
                cls_ = step_class(name)
            except KeyError as e:
                raise ValueError(f"steps.{i}: {e.args[0]}") from None
            try:
                model = cls_.Config.model_validate(cfg or {})
            except ValidationError as e:
                lines = [f"steps.{i}.{name}.{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()]
                raise ValueError("; ".join(lines)) from None
            out.append({name: model.model_dump(mode="json")})
        return out

    @property
    def kind(self) -> str:
        return "map"


class TokenizeStageSpec(BaseModel):
    """Tokenize, globally shuffle (seeded) and write Parquet shards with a manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=STAGE_NAME)
    tokenizer: TokenizerSpec
    shard_tokens: int = Field(default=100_000_000, gt=0)  # target tokens per shard file
    buckets: int | None = Field(default=None, gt=0)  # shuffle buckets; default: about one per shard
    row_group_tokens: int = Field(default=1_000_000, gt=0)
    batch_docs: int = Field(default=1000, gt=0)
    resources: Resources = Resources()

    @property
    def kind(self) -> str:
        return "tokenize"


def _stage_kind(data: Any) -> str | None:
    if not isinstance(data, dict):
        return getattr(data, "kind", None)
    keys = set(data)
    for kind, marker in STAGE_KINDS.items():
        if marker & keys:
            return kind
    return None


# The key that tells a stage's kind.
STAGE_KINDS = {"map": {"steps", "part_records"}, "tokenize": {"tokenizer"}, "dedup_docs": {"minhash", "exact"},
               "dedup_strings": {"lines", "substrings"}}
StageSpec = Annotated[
    Annotated[MapStageSpec, Tag("map")] | Annotated[TokenizeStageSpec, Tag("tokenize")]
    | Annotated[DedupDocsSpec, Tag("dedup_docs")] | Annotated[DedupStringsSpec, Tag("dedup_strings")],
    Discriminator(_stage_kind, custom_error_type="stage_kind",
                  custom_error_message="a stage needs `steps` (map), `tokenizer` (tokenize), `minhash`/`exact` "
                                       "(document dedup) or `lines`/`substrings` (string dedup)"),
]


class JobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=STAGE_NAME)
    seed: int = 0
    output: str
    input: InputConfig
    stages: list[StageSpec] = Field(min_length=1)
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


class Job:
    """A validated job with its paths resolved."""

    def __init__(self, spec: JobSpec, base_dir: str) -> None:
        self.spec = spec
        self.base_dir = base_dir

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


def _resolve(base: Path, p: str) -> str:
    if "://" in p or Path(p).is_absolute():
        return p
    return str((base / p).resolve())


def format_validation_error(e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        parts = list(err["loc"])
        if len(parts) > 2 and parts[0] == "stages" and parts[2] in STAGE_KINDS:
            del parts[2]  # the union's tag, not a field the user wrote
        loc = ".".join(str(x) for x in parts)
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{loc}: {msg}" if loc else msg)
    return "\n".join(lines)


def parse_job(data: Any, base_dir: str, output: str | None = None) -> Job:
    if not isinstance(data, dict):
        raise JobError("the job file must be a YAML mapping")
    base = Path(base_dir)
    data = dict(data)
    if output is not None:
        data["output"] = str(Path(output).resolve()) if "://" not in output else output
    elif isinstance(data.get("output"), str):
        data["output"] = _resolve(base, data["output"])
    inp = data.get("input")
    if isinstance(inp, dict) and isinstance(inp.get("paths"), list):
        data["input"] = {**inp, "paths": [_resolve(base, p) if isinstance(p, str) else p for p in inp["paths"]]}
    try:
        spec = JobSpec.model_validate(data)
    except ValidationError as e:
        raise JobError(format_validation_error(e)) from None
    return Job(spec, str(base.resolve()))


def load_job(path: str, output: str | None = None) -> Job:
    p = Path(path)
    if not p.is_file():
        raise JobError(f"job file not found: {path}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise JobError(f"{path}: not valid YAML: {e}") from None
    return parse_job(data, str(p.parent), output)
