"""The HTML report: one self-contained page (inline CSS and SVG, no script, no network).

Charts are drawn here as SVG so the page renders the same offline, in any browser, and in a
headless one for tests. Every section has an ``id`` and every chart ``class="chart"`` with a
``data-chart`` naming what it shows.
"""

from __future__ import annotations

import unicodedata
from html import escape
from typing import Any

from cc_cleaner.jobs.report import counters_with, pct

BAR = "#4c78a8"
THRESHOLD = "#e45756"
SECTIONS = ("summary", "funnel", "reasons", "histograms", "dedup", "pii", "robots", "rights", "contamination",
            "samples", "timings", "reconciliation")

CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px} h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:6px 0} td,th{border:1px solid #ddd;padding:3px 8px}
th{background:#f4f4f4;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
.partial{background:#fff3cd;border:1px solid #e0c36a;padding:8px;margin:8px 0}
.bad{background:#f8d7da;border:1px solid #d9828b;padding:8px} .good{background:#d4edda;padding:8px}
.charts{display:flex;flex-wrap:wrap;gap:16px} figure{margin:0} figcaption{font-size:12px;color:#555}
pre{white-space:pre-wrap;background:#fafafa;border:1px solid #eee;padding:6px;font-size:12px;max-height:220px;overflow:auto}
details{margin:4px 0} summary{cursor:pointer} .muted{color:#777;font-size:13px}
svg text{font-size:11px;fill:#333}
"""


def _num(v: float) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:g}"


def text_width(text: str) -> float:
    """Rough width in pixels of 11px text (CJK and other wide characters count double)."""
    return sum(11.0 if unicodedata.east_asian_width(c) in "WF" else 6.4 for c in text)


def fit_label(text: str, room: float) -> str:
    """The label, cut with an ellipsis where it would overflow ``room`` pixels."""
    if text_width(text) <= room:
        return text
    while text and text_width(text) + 7 > room:
        text = text[:-1]
    return text + "…"


def hbar_svg(items: list[tuple[str, float]], chart: str, width: int = 560, color: str = BAR) -> str:
    """Horizontal bars, one per (label, value). The label column is as wide as the labels need
    (up to half the chart); a longer label is cut with an ellipsis and shown whole on hover."""
    if not items:
        return '<p class="muted">nothing to show</p>'
    row, pad = 20, 70
    label_w = min(max(text_width(label) for label, _ in items) + 12, width // 2)
    top = max(v for _, v in items) or 1
    h = row * len(items) + 4
    out = [f'<svg class="chart" data-chart="{escape(chart)}" width="{width}" height="{h}" '
           f'xmlns="http://www.w3.org/2000/svg">']
    for i, (label, v) in enumerate(items):
        y = i * row + 2
        w = (width - label_w - pad) * v / top
        out.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end"><title>{escape(label)}</title>'
                   f'{escape(fit_label(label, label_w - 8))}</text>'
                   f'<rect x="{label_w}" y="{y + 2}" width="{max(w, 1):.1f}" height="{row - 5}" fill="{color}"/>'
                   f'<text x="{label_w + w + 4:.1f}" y="{y + 14}">{_num(v)}</text>')
    out.append("</svg>")
    return "".join(out)


def hist_svg(edges: list[float], counts: list[int], threshold: float | dict[str, float] | None, chart: str,
             width: int = 360, height: int = 150) -> str:
    """Equal-width bins labelled by their edges (edges may grow geometrically); the threshold is a
    red line placed inside its bin by linear interpolation (one per language when it has one each)."""
    n = len(counts)
    left, bottom, top_pad = 34, 22, 8
    plot_w, plot_h = width - left - 6, height - bottom - top_pad
    top = max(counts) or 1
    bw = plot_w / n
    out = [f'<svg class="chart" data-chart="{escape(chart)}" width="{width}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg">',
           f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 6}" y2="{top_pad + plot_h}" stroke="#999"/>',
           f'<text x="{left - 4}" y="{top_pad + 8}" text-anchor="end">{top}</text>',
           f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end">0</text>']
    for i, c in enumerate(counts):
        if c:
            bh = max(plot_h * c / top, 1)
            out.append(f'<rect x="{left + i * bw + 0.5:.1f}" y="{top_pad + plot_h - bh:.1f}" '
                       f'width="{max(bw - 1, 1):.1f}" height="{bh:.1f}" fill="{BAR}"><title>[{_num(edges[i])}, '
                       f'{_num(edges[i + 1])}): {c}</title></rect>')
    for i in sorted({0, n // 2, n}):
        out.append(f'<text x="{left + i * bw:.1f}" y="{height - 6}" text-anchor="middle">'
                   f'{_num(edges[i]) if edges[i] < 1e8 else "∞"}</text>')
    lines = threshold.items() if isinstance(threshold, dict) else [("", threshold)] if threshold is not None else []
    for k, (name, th) in enumerate(sorted(lines, key=lambda kv: kv[1])):
        if not edges[0] <= th <= edges[-1]:
            continue
        i = max(j for j in range(n) if edges[j] <= th) if th < edges[-1] else n - 1
        frac = (th - edges[i]) / (edges[i + 1] - edges[i]) if edges[i + 1] > edges[i] else 0
        x = left + (i + min(frac, 1.0)) * bw
        label = f"{name} {_num(th)}" if name else _num(th)
        out.append(f'<line class="threshold" x1="{x:.1f}" y1="{top_pad - 4}" x2="{x:.1f}" y2="{top_pad + plot_h}" '
                   f'stroke="{THRESHOLD}" stroke-width="3"/>'
                   f'<text x="{x + 3:.1f}" y="{top_pad + 6 + 11 * k}" fill="{THRESHOLD}">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="n">{_num(c)}</td>' if isinstance(c, int | float)
                                     else f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{escape(title)}</h2>{body}</section>'


def _funnel(report: dict[str, Any]) -> str:
    rows, bars = [], []
    for st in report["stages"]:
        mark = "" if st["finished"] else " (partial)"
        for s in st["steps"]:
            removed = s["docs_in"] - s["docs_out"]
            rows.append([f"{st['stage']}{mark}", s["name"], s["docs_in"], s["docs_out"], removed,
                         pct(removed, s["docs_in"]), round(s["bytes_in"] / 1e6, 3), round(s["bytes_out"] / 1e6, 3)])
            bars.append((f"{st['stage']}/{s['name']}", s["docs_out"]))
    stage_rows = [[st["stage"] + ("" if st["finished"] else " (partial)"), st["docs_in"], st["docs_out"],
                   st["tokens_out"] or "", st["parts"],
                   ", ".join(f"{k}={v}" for k, v in sorted(st["errors"].items())) or "",
                   ", ".join(f"{k}={v}" for k, v in sorted(st["skipped"].items())) or ""]
                  for st in report["stages"]]
    return ("<h3>Stages</h3>" + _table(["stage", "docs in", "docs out", "tokens out", "parts", "input errors",
                                        "records skipped (not documents)"], stage_rows)
            + "<h3>Documents left after each step</h3>" + hbar_svg(bars, "funnel", width=760)
            + "<h3>Steps</h3>" + _table(["stage", "step", "in", "out", "removed", "%", "MB in", "MB out"], rows)
            + _per_value(report))


def _per_value(report: dict[str, Any]) -> str:
    parts = []
    for col, title in (("lang", "language"), ("source", "source")):
        rows = []
        for st in report["stages"]:
            ins, outs = st["in_by"].get(col, {}), st["out_by"].get(col, {})
            for value in sorted(set(ins) | set(outs), key=lambda v: (-outs.get(v, 0), -ins.get(v, 0), v)):
                rows.append([st["stage"], value, ins.get(value, 0), outs.get(value, 0)])
        parts.append(f"<h3>Documents per {title}</h3>" + _table(["stage", title, "in", "out"], rows))
    return "".join(parts)


def _reasons(report: dict[str, Any]) -> str:
    bars, rows = [], []
    for st in report["stages"]:
        for s in st["steps"]:
            for reason, n in sorted(s["drops"].items(), key=lambda kv: -kv[1]):
                bars.append((f"{s['name']}: {reason}", n))
            by = s.get("drops_by", {})
            for col in ("lang", "source"):
                for value, n in sorted(by.get(col, {}).items(), key=lambda kv: -kv[1]):
                    rows.append([st["stage"], s["name"], col, value, n])
    return (hbar_svg(bars, "drops-per-reason", width=760, color=THRESHOLD)
            + "<h3>Removed per language and per source</h3>"
            + _table(["stage", "step", "by", "value", "removed"], rows))


def _histograms(report: dict[str, Any]) -> str:
    figs = []
    for st in report["stages"]:
        for s in st["steps"]:
            for col, h in s["hists"].items():
                th = h.get("threshold")
                said = ", ".join(f"{k} {_num(v)}" for k, v in sorted(th.items())) if isinstance(th, dict) else \
                    _num(th) if th is not None else None
                cap = f"{st['stage']}/{s['name']}: {col}" + (f" (threshold {said})" if said else "")
                figs.append(f"<figure>{hist_svg(h['edges'], h['counts'], th, f'hist:{col}')}"
                            f"<figcaption>{escape(cap)}</figcaption></figure>")
    return f'<div class="charts">{"".join(figs)}</div>' if figs else '<p class="muted">no metrics recorded</p>'


def _dedup(report: dict[str, Any]) -> str:
    parts = []
    for st in report["stages"]:
        c = st.get("clusters")
        if not c:
            continue
        sizes = [(f"size {k}", v) for k, v in c["cluster_size_histogram"].items()]
        parts.append(f"<h3>{escape(st['stage'])}: {c['clusters']} clusters, {c['documents_in_clusters']} documents; "
                     f"{c['candidate_pairs']} candidate pairs, {c['verified_pairs']} verified</h3>"
                     + hbar_svg(sizes, "cluster-sizes")
                     + _table(["kept", "size", "members (first 50)"],
                              [[x["kept"], x["size"], " ".join(x["members"])] for x in c["largest_clusters"]]))
    for st in report["stages"]:
        for s in st["steps"]:
            if s["name"] in ("dedup_lines", "dedup_substrings") and s["counters"]:
                parts.append(f"<h3>{escape(st['stage'])}/{escape(s['name'])}</h3>"
                             + _table(["counter", "value"], [[k, v] for k, v in sorted(s["counters"].items())]))
    return "".join(parts) or '<p class="muted">no dedup stage in this job</p>'


def _counter_section(report: dict[str, Any], prefix: str, chart: str, what: str) -> str:
    found = counters_with(prefix, report["stages"])
    if not found:
        return f'<p class="muted">no {what} in this job</p>'
    return "".join(f"<h3>{escape(where)}</h3>" + hbar_svg(list(counts.items()), chart)
                   for where, counts in found.items())


def _rights(report: dict[str, Any]) -> str:
    """Documents per licence and per signal, drops per agent, and how many said nothing at all."""
    body = ""
    for where, counts in counters_with("rights", report["stages"]).items():
        total = sum(counters_with("license", report["stages"]).get(where, {}).values()) + counts.get("unknown", 0)
        body += (f'<p>{escape(where)}: {counts.get("no_signal", 0):,} of {total:,} documents '
                 f'({pct(counts.get("no_signal", 0), total)}) carry no signal at all; '
                 f'{counts.get("unknown", 0):,} came from input without headers or HTML (signals unknown).</p>')
    return (body + "<h3>Documents per licence (declared; <code>none</code>: no licence declared)</h3>"
            + _counter_section(report, "license", "rights-per-license", "rights step")
            + "<h3>Documents per signal</h3>"
            + _counter_section(report, "signal", "rights-per-signal", "rights signals")
            + "<h3>Drops per agent a reservation named (<code>*</code>: every agent)</h3>"
            + _counter_section(report, "rights_agent", "rights-per-agent", "rights drops"))


def _samples(report: dict[str, Any]) -> str:
    parts = []
    for st in report["stages"]:
        for s in st["steps"]:
            for reason, rows in sorted(s.get("samples", {}).items()):
                items = []
                for k, r in enumerate(rows):
                    metrics = ", ".join(f"{m}={v:.3g}" if isinstance(v, float) else f"{m}={v}"
                                        for m, v in r["metrics"].items())
                    more = f" … ({r['chars']:,} chars)" if r["chars"] > len(r["text"]) else ""
                    items.append(f"<details{' open' if k == 0 else ''}><summary>{escape(r['url'] or r['id'])}</summary>"
                                 f'<p class="muted">id {escape(r["id"])} · source {escape(str(r["source"]))} · '
                                 f"{escape(metrics)}</p><pre>{escape(r['text'])}{more}</pre></details>")
                parts.append(f'<div class="sample-group"><h3>{escape(st["stage"])}/{escape(s["name"])}: '
                             f'{escape(reason)} ({s["drops"].get(reason, 0)} removed, {len(rows)} shown)</h3>'
                             + "".join(items) + "</div>")
    intro = ('<p class="muted">The same documents whatever the number of workers: the rejected documents with '
             'the smallest hash of their id. <code>cc-cleaner sample OUT --step NAME</code> prints more.</p>')
    return intro + ("".join(parts) or '<p class="muted">nothing was removed</p>')


def _timings(report: dict[str, Any]) -> str:
    rows = [[st["stage"], round(st.get("wall_seconds", 0.0), 2),
             ", ".join(f"{k} {v:.1f}" for k, v in st.get("phase_seconds", {}).items()), round(st["seconds"], 2)]
            for st in report["stages"]]
    bars = [(f"{st['stage']}/{s['name']}", round(s["seconds"], 2)) for st in report["stages"] for s in st["steps"]]
    return ("<h3>Wall time per stage and phase (planning, scheduling, setup and waiting included)</h3>"
            + _table(["stage", "wall s", "per phase (s)", "s in parts (summed over workers)"], rows)
            + '<h3>Time inside each step</h3><p class="muted">Seconds summed over all tasks (CPU time '
              'across workers, not wall time).</p>' + hbar_svg(bars, "timings", width=760))


def _reconciliation(report: dict[str, Any]) -> str:
    if report["problems"]:
        return '<div class="bad"><b>Counts do not add up:</b><ul>' + "".join(
            f"<li>{escape(p)}</li>" for p in report["problems"]) + "</ul></div>"
    if not report["finished"]:
        return '<div class="partial">Checked for finished stages only.</div>'
    return ('<div class="good">Every step: in = out + removed; each step starts with what the one before let '
            'through; each stage starts with what the one before wrote; the shards hold exactly the documents and '
            'tokens of the last stage.</div>')


def render_html(report: dict[str, Any]) -> str:
    title = f"cc-cleaner report: {report['job'] or report['output']}"
    partial = "" if report["finished"] else (
        '<div class="partial">Partial: the job has not finished. Unfinished stages show the parts done so far.</div>')
    last = next((st for st in reversed(report["stages"]) if st["started"]), None)
    first = report["stages"][0] if report["stages"] else None
    summary = _table(["output", "documents read", "documents out", "tokens out"], [[
        report["output"], first["docs_in"] if first else 0, last["docs_out"] if last else 0,
        last["tokens_out"] if last else 0]]) + partial
    body = {
        "summary": ("Summary", summary),
        "funnel": ("Funnel", _funnel(report)),
        "reasons": ("Drops per reason", _reasons(report)),
        "histograms": ("Filter metrics (red line: threshold)", _histograms(report)),
        "dedup": ("Dedup clusters", _dedup(report)),
        "pii": ("PII found per type", _counter_section(report, "entity", "pii-per-type", "PII step")),
        "robots": ("robots.txt drops per agent", _counter_section(report, "agent", "robots-per-agent",
                                                                   "robots.txt drops")
                   + "<p>Documents whose origin had no robots.txt capture, by what decided them "
                     "(<code>other_scheme</code>: the same host's file under the other scheme; "
                     "<code>redirect</code>: a followed 3xx; <code>none_allow</code>/<code>none_disallow</code>: "
                     "the step's <code>missing:</code> policy):</p>"
                   + _counter_section(report, "capture", "robots-capture", "documents without a capture")),
        "rights": ("Rights: licences, AI/TDM reservations, copyright notices", _rights(report)),
        "contamination": ("Contamination hits per benchmark",
                          _counter_section(report, "benchmark", "contamination-per-benchmark",
                                           "contaminated documents")
                          + "<p>Items indexed per benchmark (each matched by its question alone, with its "
                            "options, or by a solution alone):</p>"
                          + _counter_section(report, "max:indexed", "contamination-indexed", "indexed items")),
        "samples": ("Samples of removed documents", _samples(report)),
        "timings": ("Timings", _timings(report)),
        "reconciliation": ("Do the counts add up?", _reconciliation(report)),
    }
    nav = " · ".join(f'<a href="#{sid}">{escape(body[sid][0])}</a>' for sid in SECTIONS)
    sections = "".join(_section(sid, *body[sid]) for sid in SECTIONS)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head><body><h1>{escape(title)}</h1><nav>{nav}</nav>{sections}</body></html>\n")
