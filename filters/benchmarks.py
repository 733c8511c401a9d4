"""Loaders for benchmark test sets, as items made of the *units* a leak can show.

A test item leaks on the web in pieces: a question without its answer, a question with its
options, a long solution or a code prompt alone. Each item is therefore given as the units the
contamination index matches separately (``question``, ``question+options``, ``solution``,
``prompt``...), each judged on its own.

Known layouts (the folders under a ``benchmarks`` root, e.g. ../shared/data/benchmarks):
gsm8k, humaneval, mbpp (JSONL), mmlu / cmmlu / ceval (CSV per subject and split), and the
MosaicML ICL JSONL sets (arc_challenge, boolq, ...). Any other JSONL/CSV file can be given with
the fields whose text makes up an item (each field a unit, and all of them together).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Item = tuple[str, str, list[tuple[str, str]]]  # (benchmark, item id, [(unit kind, text)])
DEFAULT = ["gsm8k", "humaneval", "mbpp", "mmlu", "cmmlu", "ceval"]
ICL = ["arc_challenge", "arc_easy", "boolq", "commonsense_qa", "copa", "jeopardy_all", "lambada_openai", "math",
       "openbook_qa", "piqa", "siqa", "svamp", "triviaqa_sm_sub", "winograd_wsc", "winogrande"]
KNOWN = ["gsm8k", "humaneval", "mbpp", "mmlu", "cmmlu", "ceval", *ICL]


def _open_text(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8-sig")


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    for line in _open_text(path).split("\n"):  # not splitlines(): U+2028 may sit inside a JSON string
        if line.strip():
            yield json.loads(line)


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_flatten(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(_flatten(v) for v in value.values())
    return ""


def _csv_items(name: str, root: Path, splits: list[str], header: bool, q: int) -> Iterator[Item]:
    for split in splits:
        for p in sorted((root / split).glob("*.csv*")):
            rows = list(csv.reader(io.StringIO(_open_text(p))))
            for i, row in enumerate(rows[1:] if header else rows):
                if len(row) > q + 4:
                    yield name, f"{split}/{p.name.split('.')[0]}/{i}", [
                        ("question", row[q]), ("question+options", "\n".join(row[q:q + 5]))]


def _icl_units(d: dict[str, Any]) -> list[tuple[str, str]]:
    """The MosaicML ICL layouts: the prompt field alone, and everything but the gold label."""
    question = next((d[k] for k in ("query", "context") if isinstance(d.get(k), str)), None)
    whole = _flatten({k: v for k, v in d.items() if k not in ("gold", "answer_idx", "aliases", "category")})
    units = [("question", question)] if question else []
    if isinstance(d.get("chain_of_thought"), str):
        units.append(("solution", d["chain_of_thought"]))
    return units + [("question+options", whole)]


def load_benchmark(name: str, root: Path, splits: list[str] | None = None) -> Iterator[Item]:
    base = root / name
    if name == "gsm8k":
        for i, d in enumerate(_jsonl(base / "test.jsonl.gz")):
            yield name, str(i), [("question", d["question"]), ("solution", d["answer"])]
    elif name == "humaneval":
        for d in _jsonl(base / "HumanEval.jsonl.gz"):
            yield name, d["task_id"], [("prompt", d["prompt"]), ("solution", d["canonical_solution"]),
                                       ("prompt+solution", d["prompt"] + d["canonical_solution"])]
    elif name == "mbpp":
        for d in _jsonl(base / "mbpp.jsonl.gz"):
            yield name, str(d["task_id"]), [("question", d["text"]), ("solution", d["code"])]
    elif name == "mmlu":  # header-less: question,A,B,C,D,answer
        yield from _csv_items(name, base, splits or ["test"], header=False, q=0)
    elif name == "cmmlu":  # ,Question,A,B,C,D,Answer
        yield from _csv_items(name, base, splits or ["test"], header=True, q=1)
    elif name == "ceval":  # id,question,A,B,C,D[,answer[,explanation]]
        yield from _csv_items(name, base, splits or ["val", "test"], header=True, q=1)
    elif name in ICL:
        for i, d in enumerate(_jsonl(root / "llm_foundry_icl" / f"{name}.jsonl.gz")):
            yield name, str(i), _icl_units(d)
    else:
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(KNOWN)} (or give a file)")


def _field_units(values: dict[str, str], fields: list[str]) -> list[tuple[str, str]]:
    units = [(f, values.get(f) or "") for f in fields]
    return units + ([("+".join(fields), "\n".join(v for _, v in units))] if len(fields) > 1 else [])


def load_file(name: str, path: Path, fields: list[str]) -> Iterator[Item]:
    """A user's JSONL or CSV (with a header) test set: each of ``fields`` a unit, and all together."""
    if ".csv" in path.name:
        rows = csv.DictReader(io.StringIO(_open_text(path)))
        for i, row in enumerate(rows):
            yield name, str(i), _field_units(row, fields)
    else:
        for i, d in enumerate(_jsonl(path)):
            yield name, str(d.get("id", i)), _field_units({f: _flatten(d.get(f)) for f in fields}, fields)
