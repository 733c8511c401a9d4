from __future__ import annotations

import pytest

from cc_cleaner.pipeline.job import JobError, parse_job


def job(**over):
    base = {"name": "j", "output": "out", "input": {"format": "warc", "paths": ["x.warc.gz"]},
            "stages": [{"name": "extract", "steps": [{"extract": {}}]}]}
    base.update(over)
    return base


def err(data) -> str:
    with pytest.raises(JobError) as e:
        parse_job(data, "/tmp")
    return str(e.value)


def test_valid_job_resolves_relative_paths_against_the_job_folder():
    j = parse_job(job(), "/jobs/here")
    assert j.output == "/jobs/here/out"
    assert j.spec.input.paths == ["/jobs/here/x.warc.gz"]
    assert parse_job(job(output="s3://b/k"), "/x").output == "s3://b/k"


def test_unknown_key_names_the_field():
    assert "bogus: Extra inputs are not permitted" in err(job(bogus=1))
    msg = err(job(input={"format": "warc", "paths": ["a"], "max_page_byte": 5}))
    assert "input.max_page_byte" in msg


def test_bad_values_name_the_field():
    assert "input.format" in err(job(input={"format": "pdf", "paths": ["a"]}))
    assert "input.max_page_bytes" in err(job(input={"format": "warc", "paths": ["a"], "max_page_bytes": -1}))
    assert "seed" in err(job(seed="abc"))


def test_step_config_errors_name_stage_step_and_field():
    msg = err(job(stages=[{"name": "s", "steps": [{"extract": {"backend": "nope"}}]}]))
    assert "stages.0.steps" in msg and "steps.0.extract.backend" in msg
    assert "unknown step 'nosuch'" in err(job(stages=[{"name": "s", "steps": [{"nosuch": {}}]}]))
    assert "one mapping" in err(job(stages=[{"name": "s", "steps": [{"extract": {}, "x": {}}]}]))


def test_stage_names_unique_and_required_fields():
    st = {"name": "a", "steps": ["extract"]}
    assert "repeated: a" in err(job(stages=[st, st]))
    assert "output: Field required" in err({k: v for k, v in job().items() if k != "output"})


def test_step_defaults_are_part_of_the_spec():
    j = parse_job(job(stages=[{"name": "s", "steps": ["extract"]}]), "/x")
    assert j.spec.stages[0].steps == [{"extract": {"backend": "trafilatura", "favor_precision": False,
                                                   "include_tables": True, "min_chars": 1, "rights": True}}]


def test_stage_resources_are_validated_and_do_not_change_the_config_hash():
    plain = parse_job(job(), "/x")
    res = parse_job(job(stages=[{"name": "extract", "steps": [{"extract": {}}],
                                 "resources": {"cpus": 2, "memory_gb": 4}}]), "/x")
    assert res.spec.stages[0].resources.cpus == 2 and res.spec.stages[0].resources.memory_gb == 4
    assert res.stage_hash(0) == plain.stage_hash(0)
    assert "stages.0.resources.cpus: Input should be greater than 0" in err(
        job(stages=[{"name": "e", "steps": [], "resources": {"cpus": 0}}]))
    dedup = parse_job(job(stages=[{"name": "e", "steps": ["extract"]},
                                  {"name": "d", "exact": True, "resources": {"memory_gb": 8}}]), "/x")
    assert dedup.spec.stages[1].resources.memory_gb == 8
