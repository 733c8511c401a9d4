"""Helpers shared by tests (importable by spawned worker processes)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import uuid
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def write_warc(path: Path, pages: list[tuple], extra: dict[str, str] | None = None) -> None:
    """Write (url, html bytes, content-type[, more HTTP headers]) pages as a gzipped WARC with
    stable record ids (and ``extra`` WARC headers on every record, e.g. Common Crawl's
    WARC-Identified-Payload-Type)."""
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        for i, (url, body, ctype, *more) in enumerate(pages):
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype), *(more[0] if more else [])],
                                    protocol="HTTP/1.1")
            rid = uuid.uuid5(uuid.NAMESPACE_URL, f"{path.name}:{i}:{url}")
            rec = w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                       warc_headers_dict={"WARC-Record-ID": f"<urn:uuid:{rid}>",
                                                          "WARC-Date": "2024-01-01T00:00:00Z", **(extra or {})})
            w.write_record(rec)


def article_pages(shared_root: Path, limit: int | None = None) -> list[tuple[str, bytes, str]]:
    """The article_extraction_benchmark pages as (url, html, content-type)."""
    root = shared_root / "html_extraction" / "article_extraction_benchmark"
    truth = json.loads((root / "ground-truth.json").read_text())
    pages = []
    for key in sorted(truth)[:limit]:
        p = root / "html" / f"{key}.html.gz"
        if p.exists():
            pages.append((truth[key].get("url") or f"https://example.com/{key}", gzip.decompress(p.read_bytes()),
                          "text/html"))
    return pages


def tree_digest(root: Path, folders: tuple[str, ...] = ("data", "rejected", "errors")) -> dict[str, str]:
    """sha256 of every visible file under the given output folders of every stage."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not p.name.startswith(".") and len(rel.parts) > 1 and rel.parts[1] in folders:
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def die_once(marker: str) -> str:
    """Kill this worker process the first time it runs (the marker file remembers)."""
    if not os.path.exists(marker):
        Path(marker).write_text("x")
        os._exit(9)
    return "survived"


def always_raise(x: int) -> int:
    raise ValueError(f"bad input {x}")


def square(x: int) -> int:
    return x * x


def always_die(x: int) -> int:
    os._exit(9)


def die_on_negative(x: float) -> float:
    """Kills its worker for a negative input; other inputs sleep a moment (so that they are in
    flight when the worker dies) and come back squared."""
    import time

    if x < 0:
        time.sleep(0.3)
        os._exit(9)
    time.sleep(0.2)
    return x * x


def sleep_span(x: float) -> tuple[float, float]:
    """(start, end) of a short sleep: tells how many tasks ran at once."""
    import time

    t0 = time.time()
    time.sleep(x)
    return t0, time.time()


def ray_assigned(_: int) -> dict[str, float]:
    import ray

    return ray.get_runtime_context().get_assigned_resources()
