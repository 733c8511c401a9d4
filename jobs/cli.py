"""The ``cc-cleaner`` command line."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator

import click

from cc_cleaner.jobs.report import NotAnOutput, job_stages
from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.engines import TaskFailed, get_engine
from cc_cleaner.pipeline.guard import OutputError, claim_output, release_output
from cc_cleaner.pipeline.job import JobError, load_job
from cc_cleaner.pipeline.runner import JobReport, JobStateError, StepSetupError, run_job
from cc_cleaner.pipeline.store import Store


@contextlib.contextmanager
def quiet_engine_start(quiet: bool) -> Iterator[None]:
    """Under --quiet, what engines print while they start (Spark's banner, Ray's log lines) is dropped."""
    if not quiet:
        yield
        return
    saved = os.dup(2), os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved[0], 2)
            os.dup2(saved[1], 1)
            os.close(saved[0])
            os.close(saved[1])


def run_summary(out: str, report: JobReport, seconds: float) -> str:
    """What the run did: documents (and tokens) in and out per stage, time, where to look next."""
    from cc_cleaner.jobs.report import load_report

    lines = []
    stages = {s["stage"]: s for s in load_report(out)["stages"]}
    for s in report.stages:
        st = stages.get(s.name, {})
        how = "already done" if s.skipped else f"{s.ran}/{s.tasks} tasks run in {s.seconds:.1f}s"
        tokens = f", {st['tokens_out']:,} tokens" if st.get("tokens_out") else ""
        lines.append(f"{s.name:16s} {st.get('docs_in', 0):>10,} docs in -> {st.get('docs_out', 0):>10,} out"
                     f"{tokens}  ({how})")
    lines.append(f"done in {seconds:.1f}s: {out}")
    lines.append(f"see what each step removed: cc-cleaner stats {out} [--html report.html]")
    return "\n".join(lines)


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
@click.option("--force", is_flag=True, help="Write into an output folder that holds another job's (or other) files.")
def run(job_file: str, output: str | None, engine_name: str, workers: int | None,
        restart_from: str | None, address: str | None, master: str | None, quiet: bool, force: bool) -> None:
    """Run JOB_FILE; a rerun resumes where the last run stopped."""
    try:
        job = load_job(job_file, output)
    except JobError as e:
        _fail(f"{job_file}: {e}".replace("\n", "; "))
    store = Store(job.output)
    try:  # before any engine starts: a second run on this folder fails at once
        claimed = claim_output(store, job.spec.name, force)
    except OutputError as e:
        _fail(str(e))
    for note in claimed[1]:
        click.echo(f"note: {note}", err=True)
    options = {"address": address} if engine_name == "ray" else {"master": master} if engine_name == "spark" else {}
    try:
        with quiet_engine_start(quiet):
            engine = get_engine(engine_name, workers, **options)
    except BaseException:
        release_output(store, claimed[0])
        raise
    where = f", {engine.where}" if engine.where else ""
    click.echo(f"engine: {engine.name}{where}, {engine.workers} workers", err=True)
    t0 = time.perf_counter()
    try:
        report = run_job(job, engine, restart_from=restart_from, progress=not quiet, claimed=claimed)
    except (JobStateError, StepSetupError, FileNotFoundError, ValueError, OutputError) as e:
        _fail(str(e))
    except TaskFailed as e:
        _fail(str(e), 1)
    except KeyboardInterrupt:
        _fail("interrupted; run the same command again to resume", 130)
    finally:
        engine.close()
    click.echo(run_summary(job.output, report, time.perf_counter() - t0), err=True)


@main.command()
@click.argument("job_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--address", required=True, help="The Ray cluster's dashboard, e.g. http://head:8265.")
@click.option("--output", help="Output on storage every node reaches (s3://..., an NFS path); overrides the job's.")
@click.option("--working-dir", type=click.Path(exists=True, file_okay=False),
              help="Folder uploaded with the job (default: the job file's folder; relative paths resolve in it).")
@click.option("--python", "python_exe", default="python", show_default=True,
              help="The cluster's Python, with cc-cleaner installed.")
@click.option("--workers", type=int, help="Passed to `run`.")
@click.option("--restart-from", help="Passed to `run`.")
@click.option("--wait", is_flag=True, help="Follow the job's log until it ends; exit 1 if it failed.")
def submit(job_file: str, address: str, output: str | None, working_dir: str | None, python_exe: str,
           workers: int | None, restart_from: str | None, wait: bool) -> None:
    """Submit JOB_FILE to a Ray cluster (Ray Jobs): `cc-cleaner run --engine ray` on the cluster."""
    from cc_cleaner.jobs.submit import SubmitError, submit_job

    try:
        job = load_job(job_file, output)
    except JobError as e:
        _fail(f"{job_file}: {e}".replace("\n", "; "))
    try:
        submission_id = submit_job(job_file, job, address, working_dir, python_exe, workers, restart_from,
                                   wait=wait, echo=click.echo)
    except SubmitError as e:
        _fail(str(e), e.code)
    if not wait:
        click.echo(submission_id)
        click.echo(f"follow it: ray job logs --address {address} -f {submission_id}\n"
                   f"stats while it runs: cc-cleaner stats {job.output}", err=True)


@main.command()
@click.argument("out")
def status(out: str) -> None:
    """Stages of the job in OUT with tasks done/total."""
    store = Store(out)
    try:
        names = [s["name"] for s in job_stages(store)]
    except NotAnOutput as e:
        _fail(str(e))
    for name in names:
        if not store.exists(layout.phases_file(name)):
            click.echo(f"{name:20s} not started")
            continue
        state = "finished" if store.exists(layout.success_file(name)) else "running or stopped"
        counts = []
        finished = layout.done_markers(store, name)  # one listing, not a check per task
        for ph in json.loads(store.read_text(layout.phases_file(name))):
            done = sum(m in finished for m in ph["tasks"])
            counts.append(f"{ph['phase']} {done}/{len(ph['tasks'])}")
        parts = len(store.list(layout.stats_dir(name), ".json"))  # every stage kind writes one per part
        click.echo(f"{name:20s} tasks done: {', '.join(counts)}; {parts} parts written  {state}")


@main.command()
@click.argument("out")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Also write a self-contained HTML report.")
def stats(out: str, as_json: bool, html_path: str | None) -> None:
    """Funnel per stage and step: documents in, out and removed, with reasons, languages, sources;
    readable while the job runs (unfinished stages are labelled partial)."""
    from cc_cleaner.jobs.report import format_text, load_report

    try:
        report = load_report(out)
    except NotAnOutput as e:
        _fail(str(e))
    if html_path:
        from cc_cleaner.jobs.report_html import render_html

        with open(html_path, "w", encoding="utf-8") as f:
            f.write(render_html(report))
        click.echo(f"report: {html_path}", err=True)
    click.echo(json.dumps(report, indent=1, ensure_ascii=False) if as_json else format_text(report))


@main.command()
@click.argument("out")
@click.option("--step", required=True, help="Step name as shown by `cc-cleaner stats` (e.g. gopher_quality).")
@click.option("--reason", help="Only documents removed for this reason.")
@click.option("-n", "n", default=5, show_default=True, help="How many documents.")
@click.option("--kept", is_flag=True, help="Documents the step's stage kept, instead of removed ones.")
@click.option("--chars", default=1000, show_default=True, help="Characters of text to print (0: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per document.")
@click.option("--raw", is_flag=True, help="Show text as stored; by default e-mail addresses, phone, card and "
                                           "ID numbers, IPs and secrets are redacted.")
def sample(out: str, step: str, reason: str | None, n: int, kept: bool, chars: int, as_json: bool,
           raw: bool) -> None:
    """Print documents a step removed (or its stage kept): the same ones on every call."""
    from cc_cleaner.jobs.report import sample_docs
    from cc_cleaner.pipeline.redact import redact

    try:
        docs = sample_docs(out, step, reason, n, kept)
    except NotAnOutput as e:
        _fail(str(e))
    if not docs:
        _fail(f"no {'kept' if kept else 'removed'} documents for step {step!r}"
              + (f" with reason {reason!r}" if reason else ""), 1)
    for d in docs:
        if not raw:
            d = {k: redact(v) if k in ("text", "html", "url") and isinstance(v, str) else v for k, v in d.items()}
        if as_json:
            click.echo(json.dumps(d, ensure_ascii=False, default=str))
            continue
        text = d.get("text") or d.get("html") or ""
        meta = {k: v for k, v in d.items() if k not in ("text", "html", "id", "url") and v is not None}
        click.echo(f"### {d['id']}  {d.get('url') or ''}")
        click.echo("    " + "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in meta.items()))
        click.echo((text if chars == 0 else text[:chars]) + ("\n..." if chars and len(text) > chars else ""))
        click.echo()


@main.command()
@click.argument("old")
@click.argument("new")
@click.option("--state", "state_path", type=click.Path(exists=True, dir_okay=False),
              help="A loader state (JSON of ShardLoader.state_dict()): tokens before and after it in each.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def diff(old: str, new: str, state_path: str | None, as_json: bool) -> None:
    """What changed between two versions of a corpus (two outputs of the job)."""
    from cc_cleaner.jobs.diff import diff as compute
    from cc_cleaner.jobs.diff import format_diff, load_state

    try:
        d = compute(old, new, load_state(state_path) if state_path else None)
    except (ValueError, NotAnOutput) as e:
        _fail(str(e))
    click.echo(json.dumps(d, indent=1) if as_json else format_diff(d))


@main.command("decontam-index")
@click.option("--benchmarks-dir", help="Folder with the known layouts (gsm8k/, mmlu/, ceval/, llm_foundry_icl/...).")
@click.option("--benchmark", "benchmarks", multiple=True,
              help="A known benchmark to index (repeatable; default with --benchmarks-dir: "
                   "gsm8k humaneval mbpp mmlu cmmlu ceval).")
@click.option("--file", "files", multiple=True, metavar="NAME=PATH:FIELD[,FIELD...]",
              help="A JSONL/CSV test set of your own and the fields that make up an item (repeatable).")
@click.option("--splits", help="CSV benchmarks: comma-separated splits (default test; ceval val,test).")
@click.option("--n", default=13, show_default=True)
@click.option("--min-item-tokens", default=8, show_default=True)
@click.option("--max-items-per-ngram", default=20, show_default=True)
@click.option("--output", required=True, help="Index file to write (.npz); give it to the step as `index:`.")
def decontam_index(benchmarks_dir: str | None, benchmarks: tuple[str, ...], files: tuple[str, ...],
                   splits: str | None, n: int, min_item_tokens: int, max_items_per_ngram: int, output: str) -> None:
    """Build a decontamination index (n-gram hashes only, no benchmark text) from test sets."""
    from pathlib import Path

    from cc_cleaner.filters.benchmarks import DEFAULT, load_benchmark, load_file
    from cc_cleaner.filters.decontaminate import ContaminationIndex

    names = list(benchmarks) or (DEFAULT if benchmarks_dir else [])
    if names and not benchmarks_dir:
        _fail("--benchmark needs --benchmarks-dir")
    items: list = []
    try:
        for b in names:
            items += load_benchmark(b, Path(benchmarks_dir), splits.split(",") if splits else None)
        for spec in files:
            name, _, rest = spec.partition("=")
            path, _, fields = rest.rpartition(":")
            if not (name and path and fields):
                _fail(f"--file {spec!r}: use NAME=PATH:FIELD[,FIELD...]")
            items += load_file(name, Path(path), fields.split(","))
    except (OSError, ValueError, KeyError) as e:
        _fail(f"cannot read the test sets: {e}")
    if not items:
        _fail("nothing to index: give --benchmarks-dir and/or --file")
    idx = ContaminationIndex.build(items, n, min_item_tokens, max_items_per_ngram)
    idx.save(output)
    for b, k in idx.indexed.items():
        click.echo(f"{b:20s} {k:8d} items")
    click.echo(f"{len(idx.unit_item)} units, {len(idx.hashes)} n-grams -> {output} "
               f"({Path(output).stat().st_size / 1e6:.1f} MB)", err=True)


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
