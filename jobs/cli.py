"""The ``cc-cleaner`` command line."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import yaml

from cc_cleaner.jobs.spec import JobError, load_job
from cc_cleaner.pipeline.engines import TaskFailed, get_engine
from cc_cleaner.pipeline.runner import JobStateError, StepSetupError, run_job
from cc_cleaner.pipeline.stats import merge
from cc_cleaner.pipeline.store import Store


def _fail(msg: str, code: int = 2) -> None:
    click.echo(f"error: {msg}", err=True)
    sys.exit(code)


@click.group()
def main() -> None:
    """Curate web crawls into tokenized pretraining shards."""


@main.command()
@click.argument("job_file", type=click.Path(dir_okay=False))
@click.option("--output", help="Output folder or fsspec URL (overrides the job's `output`).")
@click.option("--engine", "engine_name", type=click.Choice(["local", "ray", "spark"]), default="local",
              show_default=True)
@click.option("--workers", type=int, default=None, help="Worker processes (default: all cores).")
@click.option("--restart-from", help="Delete this stage's and later stages' outputs and run them again.")
@click.option("--address", help="Ray: cluster address (auto, ray://head:10001); default: a local instance.")
@click.option("--master", help="Spark: master URL; default: the active session, else local[N,3].")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(job_file: str, output: str | None, engine_name: str, workers: int | None,
        restart_from: str | None, address: str | None, master: str | None, quiet: bool) -> None:
    """Run JOB_FILE; a rerun resumes where the last run stopped."""
    try:
        job = load_job(job_file, output)
    except JobError as e:
        _fail(f"{job_file}: {e}".replace("\n", "; "))
    options = {"address": address} if engine_name == "ray" else {"master": master} if engine_name == "spark" else {}
    engine = get_engine(engine_name, workers, **options)
    try:
        report = run_job(job, engine, restart_from=restart_from, progress=not quiet)
    except (JobStateError, StepSetupError, FileNotFoundError, ValueError) as e:
        _fail(str(e))
    except TaskFailed as e:
        _fail(str(e), 1)
    finally:
        engine.close()
    for s in report.stages:
        state = "already done" if s.skipped else f"{s.ran}/{s.tasks} tasks run, {s.seconds:.1f}s"
        click.echo(f"{s.name}: {state}", err=True)
    click.echo(f"done: {job.output}", err=True)


def _job_stages(store: Store) -> list[str]:
    if not store.exists("job.yaml"):
        _fail(f"{store.url}: no job.yaml; not a cc-cleaner output folder")
    spec = yaml.safe_load(store.read_text("job.yaml"))
    return [s["name"] for s in spec["stages"]]


@main.command()
@click.argument("out")
def status(out: str) -> None:
    """Stages of the job in OUT with tasks done/total."""
    store = Store(out)
    for name in _job_stages(store):
        sdir = f"_state/{name}"
        if not store.exists(f"{sdir}/phases.json"):
            click.echo(f"{name:20s} not started")
            continue
        state = "finished" if store.exists(f"{sdir}/_SUCCESS") else "running or stopped"
        counts = []
        for ph in json.loads(store.read_text(f"{sdir}/phases.json")):
            done = sum(store.exists(m) for m in ph["tasks"])
            counts.append(f"{ph['phase']} {done}/{len(ph['tasks'])}")
        parts = len(store.fs.glob(store.path(sdir, "parts", "*", "*.done")))
        click.echo(f"{name:20s} tasks done: {', '.join(counts)}; {parts} parts  {state}")


def load_stage_stats(store: Store, stage: str) -> dict[str, Any]:
    parts = [json.loads(store.read_text(rel)) for rel in store.list(f"{stage}/stats", ".json")]
    merged = merge(parts)
    merged["stage"] = stage
    merged["finished"] = store.exists(f"_state/{stage}/_SUCCESS")
    return merged


def _pct(removed: int, total: int) -> str:
    return f"{100 * removed / total:.1f}%" if total else "-"


@main.command()
@click.argument("out")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def stats(out: str, as_json: bool) -> None:
    """Funnel per stage and step: documents in, out and removed, with reasons."""
    store = Store(out)
    report = [load_stage_stats(store, name) for name in _job_stages(store)]
    if as_json:
        click.echo(json.dumps(report, indent=1))
        return
    for st in report:
        label = "" if st["finished"] else "  (partial: stage not finished)"
        click.echo(f"== {st['stage']}: {st['docs_in']} docs in, {st['docs_out']} out, "
                   f"{st['parts']} parts, {st['seconds']:.1f}s{label}")
        if st["errors"]:
            click.echo("   input errors: " + ", ".join(f"{k}={v}" for k, v in sorted(st["errors"].items())))
        if st["skipped"]:
            click.echo("   records skipped: " + ", ".join(f"{k}={v}" for k, v in sorted(st["skipped"].items())))
        click.echo(f"   {'step':22s} {'in':>9s} {'out':>9s} {'removed':>9s} {'%':>7s} {'MB in':>8s} {'MB out':>8s}")
        for s in st["steps"]:
            removed = s["docs_in"] - s["docs_out"]
            click.echo(f"   {s['name']:22s} {s['docs_in']:9d} {s['docs_out']:9d} {removed:9d} "
                       f"{_pct(removed, s['docs_in']):>7s} {s['bytes_in'] / 1e6:8.2f} {s['bytes_out'] / 1e6:8.2f}")
            for reason, n in sorted(s["drops"].items(), key=lambda kv: -kv[1]):
                click.echo(f"     - {reason:20s} {n:9d}")


@main.command("train-quality")
@click.option("--positive", multiple=True, required=True, help="JSONL/Parquet files (globs) of good text.")
@click.option("--negative", multiple=True, required=True, help="JSONL/Parquet files (globs) of bad text.")
@click.option("--output", required=True, help="Model path (.bin, or .ftz with --quantize).")
@click.option("--text-field", default="text", show_default=True)
@click.option("--holdout", default=0.1, show_default=True, help="Fraction of each class held out.")
@click.option("--seed", default=0, show_default=True)
@click.option("--epoch", default=10, show_default=True)
@click.option("--quantize", is_flag=True, help="Write a small quantized model.")
def train_quality_cmd(positive: tuple[str, ...], negative: tuple[str, ...], output: str, text_field: str,
                      holdout: float, seed: int, epoch: int, quantize: bool) -> None:
    """Train a fastText quality classifier; prints the held-out evaluation."""
    from cc_cleaner.jobs.train_quality import read_texts, train_quality

    pos, neg = read_texts(list(positive), text_field), read_texts(list(negative), text_field)
    if not pos or not neg:
        _fail(f"need examples of both classes (found {len(pos)} positive, {len(neg)} negative)")
    report = train_quality(pos, neg, output, holdout=holdout, seed=seed, epoch=epoch, quantize=quantize)
    click.echo(json.dumps(report["heldout"], indent=1))
    click.echo(f"model: {output} ({report['model_bytes']} bytes), report: {output}.json", err=True)


if __name__ == "__main__":
    main()
