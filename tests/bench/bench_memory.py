"""Peak RSS of one extract worker: parts cut by a byte budget (the default) against parts of
2,000 records only (the old default), on every real page of ../shared/data/html_extraction in one
WARC, one worker.

    python tests/bench/bench_memory.py

Each setting runs in a fresh process (its own local engine), which reports the peak RSS of its
worker (``RUSAGE_CHILDREN`` once the pool is gone) and the wall time; the documents of both runs
are compared, every column of every row.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

STEPS = ["extract", {"language": {"keep": ["en", "zh", "de", "fr", "es", "ru", "ja"]}}, {"gopher_repetition": {}},
         {"gopher_quality": {}}, {"c4": {}}, {"fineweb": {}}]


def one_run(warc: str, out: str, part_bytes: int, backend: str = "trafilatura") -> None:
    import time

    import pyarrow as pa
    import pyarrow.parquet as pq

    from cc_cleaner.pipeline.job import Job

    job = Job.from_dict({"name": "m", "output": out, "input": {"format": "warc", "paths": [warc]},
                         "stages": [{"name": "x", "part_bytes": part_bytes,
                                     "steps": [{"extract": {"backend": backend}}, *STEPS[1:]]}]})
    t0 = time.perf_counter()
    job.run(workers=1)
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    data = sorted(Path(out, "x", "data").glob("*.parquet"))
    rows = pa.concat_tables([pq.read_table(p) for p in data], promote_options="default").sort_by("id")
    digest = hashlib.sha256(b"".join(json.dumps(r, sort_keys=True, default=str).encode()
                                     for r in rows.to_pylist())).hexdigest()
    print(json.dumps({"seconds": secs, "rss_mb": rss, "parts": len(data), "docs": rows.num_rows, "digest": digest}))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        one_run(sys.argv[2], sys.argv[3], int(sys.argv[4]), *sys.argv[5:6])
        return
    from conftest import SHARED
    from helpers import write_warc

    files = sorted((SHARED / "html_extraction").rglob("*.html.gz"))
    pages = [(f"https://bench.example/{i}", gzip.decompress(p.read_bytes()), "text/html") for i, p in enumerate(files)]
    with tempfile.TemporaryDirectory() as tmp:
        warc = str(Path(tmp) / "all.warc.gz")
        write_warc(Path(warc), pages)
        print(f"{len(pages)} pages, {sum(len(h) for _, h, _ in pages) / 1e6:.0f} MB of HTML, one WARC, one worker")
        res = {}
        for label, budget in (("part_bytes 32 MiB (default)", 32 << 20), ("2,000 records only", 1 << 62)):
            out = subprocess.run([sys.executable, __file__, "--one", warc, str(Path(tmp) / str(budget)), str(budget)],
                                 check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            res[label] = json.loads(out)
            r = res[label]
            print(f"{label:28s} peak RSS {r['rss_mb']:6.0f} MB  {r['seconds']:6.1f} s  {r['parts']} parts  "
                  f"{r['docs']} documents  rows sha256 {r['digest'][:12]}")
        a, b = res.values()
        print(f"same documents, every column: {a['digest'] == b['digest']}; time ratio {a['seconds'] / b['seconds']:.2f}")


if __name__ == "__main__":
    main()
