"""``cc-cleaner diff OLD NEW``: what changed between two versions of a corpus.

Documents and tokens added and removed (from the tokenize stages' shards), the removed ones by
the step and reason that removed them in NEW (from NEW's ``rejected/``), the added ones by
source, and, given a loader state, how many tokens of each version lie before and after it.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cc_cleaner.jobs.report import job_stages
from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.loader import Corpus, Position, _rank
from cc_cleaner.pipeline.store import Store
from cc_cleaner.pipeline.tokenize_stage import key_range

_U64 = 1 << 64


def corpus_docs(out: str) -> tuple[str, pa.Table]:
    """(manifest path, table of doc_id, source, n_tokens, key, digest) of an output's shards."""
    store = Store(out)
    manifests = [s["name"] for s in job_stages(store) if store.exists(f"{s['name']}/manifest.json")]
    if not manifests:
        raise ValueError(f"{out}: no tokenize stage with a manifest")
    manifest = store.path(f"{manifests[-1]}/manifest.json")
    info = json.loads(store.read_text(f"{manifests[-1]}/manifest.json"))
    if not str(info.get("format", "")).endswith("/2"):
        raise ValueError(f"{out}: shards written before key order (format {info.get('format')}); "
                         f"re-run its {manifests[-1]} stage (--restart-from {manifests[-1]})")
    cols = ["doc_id", "source", "n_tokens", "key", "digest"]
    tables = [pq.read_table(store.fs.open(store.path(manifests[-1], s["file"]), "rb"), columns=cols)
              for s in info["shards"]]
    return manifest, pa.concat_tables(tables) if tables else pa.table({c: [] for c in cols})


def removal_reasons(out: str, ids: set[str]) -> dict[str, tuple[str, str]]:
    """doc id -> (stage/step, reason) for the documents of ``ids`` that ``out`` rejected."""
    store = Store(out)
    found: dict[str, tuple[str, str]] = {}
    for st in job_stages(store):
        for rel in store.list(layout.rejected_dir(st["name"]), ".parquet"):
            t = store.read_table(rel).select(["id", "step", "reason"])
            for i, step, reason in zip(*(t[c].to_pylist() for c in ("id", "step", "reason")), strict=True):
                if i in ids and i not in found:
                    found[i] = (f"{st['name']}/{step}", reason)
    return found


def tokens_around(corpus: Corpus, docs: pa.Table, pos: Position) -> tuple[int, int]:
    """Tokens of the corpus's ``pos.epoch`` stream before and after ``pos``."""
    keys, sizes = docs["key"].to_numpy(), docs["n_tokens"].to_numpy().astype(np.int64)
    digests = docs["digest"].to_numpy()
    order = corpus.range_order(pos.epoch)
    place = {b: i for i, b in enumerate(order)}
    ranges = np.array([place[int(b)] for b in key_range(keys, corpus.buckets)], dtype=np.int64)
    if pos.key < 0:  # at a range start
        before = int(sizes[ranges < pos.range_index].sum())
        return before, int(sizes.sum()) - before
    bucket = order[pos.range_index]
    pivot = corpus.pivot(pos.epoch, bucket)
    rot = _rank(keys, pivot)
    here = np.uint64((pos.key - pivot) % _U64)
    earlier = (ranges < pos.range_index) | ((ranges == pos.range_index) & (rot < here))
    before = int(sizes[earlier].sum())
    same = (keys == np.uint64(pos.key)) & (digests == np.uint64(pos.digest))
    before += int(min(pos.offset, int(sizes[same].sum()))) if same.any() else 0
    return before, int(sizes.sum()) - before


def diff(old: str, new: str, state: dict[str, Any] | None = None) -> dict[str, Any]:
    old_manifest, a = corpus_docs(old)
    new_manifest, b = corpus_docs(new)
    a_ids, b_ids = set(a["doc_id"].to_pylist()), set(b["doc_id"].to_pylist())
    removed, added = a_ids - b_ids, b_ids - a_ids
    a_tok = dict(zip(a["doc_id"].to_pylist(), a["n_tokens"].to_pylist(), strict=True))
    b_rows = {i: (s, n) for i, s, n in zip(*(b[c].to_pylist() for c in ("doc_id", "source", "n_tokens")),
                                          strict=True)}
    why = removal_reasons(new, removed)
    by_step: Counter = Counter()
    tok_by_step: Counter = Counter()
    for i in removed:
        key = " ".join(why.get(i, ("(not in NEW's input)", "")))
        by_step[key.strip()] += 1
        tok_by_step[key.strip()] += a_tok[i]
    by_source: Counter = Counter()
    tok_by_source: Counter = Counter()
    for i in added:
        by_source[b_rows[i][0]] += 1
        tok_by_source[b_rows[i][0]] += b_rows[i][1]
    out: dict[str, Any] = {
        "old": {"docs": len(a_ids), "tokens": int(sum(a_tok.values()))},
        "new": {"docs": len(b_ids), "tokens": int(sum(n for _, n in b_rows.values()))},
        "added": {"docs": len(added), "tokens": int(sum(tok_by_source.values())),
                  "by_source": {s: {"docs": by_source[s], "tokens": tok_by_source[s]} for s in sorted(by_source)}},
        "removed": {"docs": len(removed), "tokens": int(sum(tok_by_step.values())),
                    "by_step_reason": {k: {"docs": by_step[k], "tokens": tok_by_step[k]} for k in sorted(by_step)}},
    }
    if state is not None:
        pos = Position(**state["position"])
        out["checkpoint"] = {"position": state["position"]}
        for name, manifest, docs in (("old", old_manifest, a), ("new", new_manifest, b)):
            before, after = tokens_around(Corpus(manifest), docs, pos)
            out["checkpoint"][name] = {"tokens_before": before, "tokens_after": after}
    return out


def format_diff(d: dict[str, Any]) -> str:
    lines = [f"documents: {d['old']['docs']:,} -> {d['new']['docs']:,} (+{d['added']['docs']:,} "
             f"-{d['removed']['docs']:,}); tokens: {d['old']['tokens']:,} -> {d['new']['tokens']:,} "
             f"(+{d['added']['tokens']:,} -{d['removed']['tokens']:,})"]
    if d["removed"]["by_step_reason"]:
        lines.append("removed, by the step and reason that removed them in NEW:")
        lines += [f"  {k}: {v['docs']:,} docs, {v['tokens']:,} tokens" for k, v in d["removed"]["by_step_reason"].items()]
    if d["added"]["by_source"]:
        lines.append("added, by source:")
        lines += [f"  {k}: {v['docs']:,} docs, {v['tokens']:,} tokens" for k, v in d["added"]["by_source"].items()]
    if "checkpoint" in d:
        c = d["checkpoint"]
        lines.append(f"at the checkpoint (epoch {c['position']['epoch']}): "
                     f"old {c['old']['tokens_before']:,} tokens before, {c['old']['tokens_after']:,} after; "
                     f"new {c['new']['tokens_before']:,} before, {c['new']['tokens_after']:,} after")
    return "\n".join(lines)


def load_state(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())
