"""The architecture's rules, checked: the core imports nothing above it, user steps plug in by
dotted path, and the Python API runs what the YAML runs."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cc_cleaner.pipeline.job import Job, JobError
from cc_cleaner.pipeline.stages import stage_kinds

from conftest import REPO
from helpers import tree_digest

ABOVE = ("cc_cleaner.filters", "cc_cleaner.dedup", "cc_cleaner.jobs")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):  # every import, at any depth (lazy ones too)
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_pipeline_imports_nothing_above_it():
    files = sorted((REPO / "pipeline").rglob("*.py"))
    assert len(files) > 15
    bad = {str(f.relative_to(REPO)): n for f in files for n in _imports(f) if n.startswith(ABOVE)}
    assert bad == {}
    # And at run time: importing every core module loads none of the folders above it.
    mods = [".".join(("cc_cleaner", *f.relative_to(REPO).with_suffix("").parts)).removesuffix(".__init__")
            for f in files]
    code = (f"import importlib, sys\nfor m in {mods!r}: importlib.import_module(m)\n"
            f"print([m for m in sys.modules if m.startswith({ABOVE!r})])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_stage_kinds_come_from_their_modules():
    kinds = stage_kinds()
    assert {"map", "tokenize", "dedup_docs", "dedup_strings"} <= set(kinds)
    assert kinds["dedup_docs"].spec.__module__ == "cc_cleaner.dedup.docs"


def _jsonl_job(tmp: Path, steps: list) -> dict:
    docs = [{"id": f"d{i}", "text": ("Home About Contact Products Blog Login Search Careers" if i % 3 == 0 else
                                     f"this is an ordinary sentence number {i}, written the usual way.")}
            for i in range(30)]
    (tmp / "in.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    return {"name": "api", "output": str(tmp / "out"), "input": {"format": "jsonl", "paths": ["in.jsonl"]},
            "stages": [{"name": "clean", "part_records": 8, "steps": steps}]}


def test_user_step_by_dotted_path_through_the_python_api(tmp_path):
    job = Job.from_dict(_jsonl_job(tmp_path, [{"userpkg.steps:TitleCaseRatio": {"max_ratio": 0.6}}]),
                        base_dir=str(tmp_path))
    report = job.run(engine="local", workers=2)
    assert [s.name for s in report.stages] == ["clean"]
    assert (report.stages[0].docs_in, report.stages[0].docs_out) == (30, 20)
    import pyarrow.parquet as pq

    rej = pq.read_table(tmp_path / "out" / "clean" / "rejected").to_pylist()
    assert {(r["step"], r["reason"]) for r in rej} == {("title_case_ratio", "mostly_title_case")}
    assert len(rej) == 10
    # The YAML written into the output loads back into the same job.
    again = Job.from_yaml(str(tmp_path / "out" / "job.yaml"))
    assert again.stage_hash(0) == job.stage_hash(0)
    assert tree_digest(tmp_path / "out")


@pytest.mark.parametrize("name, says", [
    ("nopkg_xyz.steps:Thing", "cannot import 'nopkg_xyz.steps'"),
    ("userpkg.steps:Missing", "has no 'Missing'"),
    ("userpkg.steps:TitleCaseConfig", "not a subclass"),
])
def test_bad_dotted_step_is_a_job_error(tmp_path, name, says):
    with pytest.raises(JobError, match=says):
        Job.from_dict(_jsonl_job(tmp_path, [{name: {}}]), base_dir=str(tmp_path))


def test_user_step_config_is_validated(tmp_path):
    with pytest.raises(JobError, match=r"stages\.0\.steps\.0\.userpkg\.steps:TitleCaseRatio\.max_ratio"):
        Job.from_dict(_jsonl_job(tmp_path, [{"userpkg.steps:TitleCaseRatio": {"max_ratio": 3}}]),
                      base_dir=str(tmp_path))
