"""What a job did, read back from its output folder: per-stage stats, dedup clusters, shards.

``load_report`` is the one reader behind ``cc-cleaner stats`` (text and ``--json``) and the HTML
report; ``reconcile`` checks that the counts add up.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.stats import merge
from cc_cleaner.pipeline.store import Store


class NotAnOutput(Exception):
    pass


def job_spec(store: Store) -> dict[str, Any]:
    """The job.yaml a run wrote into its output folder."""
    if not store.exists(layout.JOB_FILE):
        raise NotAnOutput(f"{store.url}: no {layout.JOB_FILE}; not a cc-cleaner output folder")
    return yaml.safe_load(store.read_text(layout.JOB_FILE))


def job_stages(store: Store) -> list[dict[str, Any]]:
    return job_spec(store)["stages"]


def load_stage_stats(store: Store, stage: str) -> dict[str, Any]:
    finished = store.exists(layout.success_file(stage))
    if finished and store.exists(layout.summary_file(stage)):  # one file, not one per part
        merged = json.loads(store.read_text(layout.summary_file(stage)))
        merged["stage"], merged["started"], merged["finished"] = stage, True, True
        return merged
    parts = [json.loads(store.read_text(rel)) for rel in store.list(layout.stats_dir(stage), ".json")]
    merged = merge(parts)
    merged["stage"] = stage
    merged["started"] = store.exists(layout.phases_file(stage)) or bool(parts)
    merged["finished"] = finished
    return merged


def load_report(out: str) -> dict[str, Any]:
    """Everything the stats views show. Stages still running (or stopped) are marked ``finished: false``:
    their figures cover the parts finished so far."""
    store = Store(out)
    spec = job_spec(store)
    stages = [load_stage_stats(store, s["name"]) for s in spec["stages"]]
    for st in stages:
        rel = f"{st['stage']}/clusters.json"
        if store.exists(rel):
            st["clusters"] = json.loads(store.read_text(rel))
        rel = f"{st['stage']}/manifest.json"
        if store.exists(rel):
            m = json.loads(store.read_text(rel))
            st["shards"] = {"files": len(m["shards"]), "docs": m["total_docs"], "tokens": m["total_tokens"],
                            "tokenizer": m["tokenizer"]["name"]}
    report = {"job": spec.get("name"), "output": store.url, "stages": stages,
              "finished": all(s["finished"] for s in stages)}
    report["problems"] = reconcile(report)
    return report


def reconcile(report: dict[str, Any]) -> list[str]:
    """Every way the counts fail to add up (empty when they all do): within each step
    in = out + removed, steps chain within a stage, stages chain, shards hold the last stage's output."""
    problems: list[str] = []
    prev_out: int | None = None
    for st in report["stages"]:
        name = st["stage"]
        if not st["finished"]:
            prev_out = None  # a partial stage has nothing to agree with yet
            continue
        if prev_out is not None and st["docs_in"] != prev_out:
            problems.append(f"{name}: {st['docs_in']} docs in, but the previous stage wrote {prev_out}")
        chain = st["docs_in"]
        for s in st["steps"]:
            removed = sum(s["drops"].values())
            if s["docs_in"] != s["docs_out"] + removed:
                problems.append(f"{name}/{s['name']}: {s['docs_in']} in != {s['docs_out']} out + {removed} removed")
            if s["docs_in"] != chain:
                problems.append(f"{name}/{s['name']}: {s['docs_in']} in, but the step before let {chain} through")
            for col, counts in s.get("drops_by", {}).items():
                if sum(counts.values()) != removed:
                    problems.append(f"{name}/{s['name']}: drops per {col} add up to {sum(counts.values())}, "
                                    f"not {removed}")
            chain = s["docs_out"]
        if st["steps"] and chain != st["docs_out"]:
            problems.append(f"{name}: last step let {chain} through, but the stage wrote {st['docs_out']}")
        for col, counts in st.get("out_by", {}).items():
            if sum(counts.values()) != st["docs_out"]:
                problems.append(f"{name}: output per {col} adds up to {sum(counts.values())}, not {st['docs_out']}")
        if "shards" in st:
            sh = st["shards"]
            if sh["docs"] != st["docs_out"] or sh["tokens"] != st["tokens_out"]:
                problems.append(f"{name}: shards hold {sh['docs']} docs / {sh['tokens']} tokens, stats say "
                                f"{st['docs_out']} / {st['tokens_out']}")
        prev_out = st["docs_out"]
    return problems


def counters_with(prefix: str, stages: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """``{"stage/step": {key: n}}`` for the counters named ``prefix:key`` (entity:, agent:, benchmark:)."""
    out: dict[str, dict[str, int]] = {}
    for st in stages:
        for s in st["steps"]:
            found = {k[len(prefix) + 1:]: v for k, v in s["counters"].items() if k.startswith(prefix + ":")}
            if found:
                out[f"{st['stage']}/{s['name']}"] = dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def pct(removed: int, total: int) -> str:
    return f"{100 * removed / total:.1f}%" if total else "-"


def _by(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def format_text(report: dict[str, Any]) -> str:
    lines: list[str] = []
    say = lines.append
    if not report["finished"]:
        say("(partial: the job has not finished; unfinished stages show the parts done so far)")
    for st in report["stages"]:
        if not st["started"]:
            say(f"== {st['stage']}: not started")
            continue
        label = "" if st["finished"] else "  (partial: stage not finished)"
        tokens = f", {st['tokens_out']:,} tokens" if st["tokens_out"] else ""
        wall = f"{st['wall_seconds']:.1f}s wall, " if "wall_seconds" in st else ""
        say(f"== {st['stage']}: {st['docs_in']} docs in, {st['docs_out']} out{tokens}, {st['parts']} parts, "
            f"{wall}{st['seconds']:.1f}s in parts{label}")
        if st.get("phase_seconds") and len(st["phase_seconds"]) > 1:
            say("   wall per phase: " + ", ".join(f"{k} {v:.1f}s" for k, v in st["phase_seconds"].items()))
        if st["errors"]:
            say("   input errors: " + _by(st["errors"]))
        if st["skipped"]:
            say("   records skipped: " + _by(st["skipped"]))
        for col, counts in st["out_by"].items():
            if counts:
                say(f"   out per {col}: {_by(counts)}")
        say(f"   {'step':22s} {'in':>9s} {'out':>9s} {'removed':>9s} {'%':>7s} {'MB in':>8s} {'MB out':>8s} "
            f"{'sec':>7s}")
        for s in st["steps"]:
            removed = s["docs_in"] - s["docs_out"]
            say(f"   {s['name']:22s} {s['docs_in']:9d} {s['docs_out']:9d} {removed:9d} "
                f"{pct(removed, s['docs_in']):>7s} {s['bytes_in'] / 1e6:8.2f} {s['bytes_out'] / 1e6:8.2f} "
                f"{s['seconds']:7.2f}")
            for reason, n in sorted(s["drops"].items(), key=lambda kv: (-kv[1], kv[0])):
                say(f"     - {reason:24s} {n:9d}")
            for col, counts in s.get("drops_by", {}).items():
                if counts:
                    say(f"       removed per {col}: {_by(counts)}")
        if "clusters" in st:
            c = st["clusters"]
            say(f"   clusters: {c['clusters']} ({c['documents_in_clusters']} docs); sizes: "
                + ", ".join(f"{k}x{v}" for k, v in c["cluster_size_histogram"].items()))
        if "shards" in st:
            sh = st["shards"]
            say(f"   shards: {sh['files']} files, {sh['docs']} docs, {sh['tokens']:,} tokens ({sh['tokenizer']})")
    for prefix, title in (("entity", "PII found per type"), ("agent", "robots.txt drops per agent"),
                          ("capture", "robots.txt: documents whose origin had no capture, decided by"),
                          ("benchmark", "contaminated documents per benchmark"),
                          ("max:table_errors", "robots.txt or tdmrep.json table records that could not be read"),
                          ("license", "documents per licence (rights)"), ("signal", "documents per rights signal"),
                          ("rights_agent", "rights drops per agent named"),
                          ("rights", "documents with no rights signal / signals unknown"),
                          ("max:indexed", "benchmark items indexed")):
        for where, counts in counters_with(prefix, report["stages"]).items():
            say(f"{title} ({where}): {_by(counts)}")
    if report["problems"]:
        say("COUNTS DO NOT ADD UP:")
        lines.extend(f"  - {p}" for p in report["problems"])
    elif report["finished"]:
        say("counts reconcile: every step's in = out + removed, stages chain, shards match")
    return "\n".join(lines)


def step_stage(store: Store, step: str) -> str:
    """The stage whose stats include ``step``."""
    steps = {}  # step name -> its stage (the first one that has it)
    for stage in job_stages(store):
        for s in load_stage_stats(store, stage["name"])["steps"]:
            steps.setdefault(s["name"], stage["name"])
        if step in steps:
            return steps[step]
    found = sorted(steps)
    raise NotAnOutput(f"no step {step!r} in {store.url}; steps with stats: {', '.join(found) or 'none yet'}")


def sample_docs(out: str, step: str, reason: str | None = None, n: int = 5, kept: bool = False) -> list[dict]:
    """``n`` documents that ``step`` removed (with ``reason``), or with ``kept`` documents of the stage's
    output: the ones with the smallest hash of their id, so the report's samples come first."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from cc_cleaner.pipeline.stats import sample_key

    store = Store(out)
    stage = step_stage(store, step)
    files = store.list(layout.data_dir(stage) if kept else layout.rejected_dir(stage), ".parquet")
    best: list[tuple[int, str, str]] = []  # (key, id, file)
    for rel in files:
        with store.fs.open(store.path(rel), "rb") as f:
            t = pq.read_table(f, columns=["id"] if kept else ["id", "step", "reason"])
        if not kept:
            mask = pc.equal(t["step"], step)
            if reason is not None:
                mask = pc.and_(mask, pc.equal(t["reason"], reason))
            t = t.filter(mask)
        best.extend((sample_key(i), i, rel) for i in t["id"].to_pylist())
        best = sorted(best)[:n]
    docs = []
    for rel in sorted({r for _, _, r in best}):
        ids = [i for _, i, r in best if r == rel]
        t = store.read_table(rel)
        t = t.filter(pc.is_in(t["id"], pa.array(ids)))
        if "html" in t.column_names and "text" in t.column_names:
            t = t.drop_columns(["html"])
        docs.extend(t.to_pylist())
    order = {i: k for k, i, _ in best}
    return sorted(docs, key=lambda d: (order[d["id"]], d["id"]))
