"""One big WARC on one worker vs cut into byte ranges on two (this machine has two cores).

    python tests/bench/bench_split.py

Builds one WARC from every real page in ../shared/data/html_extraction, runs an extract stage
with the file as one task (1 worker) and cut into >= 8 ranges (1 and 2 workers), checks the
documents are the same, and prints pages/s and the speed-up.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow.parquet as pq  # noqa: E402

from cc_cleaner.pipeline.job import Job  # noqa: E402

from conftest import SHARED  # noqa: E402
from helpers import write_warc  # noqa: E402


def main() -> None:
    files = sorted((SHARED / "html_extraction").rglob("*.html.gz"))
    pages = [(f"https://bench.example/{i}", gzip.decompress(p.read_bytes()), "text/html") for i, p in enumerate(files)]
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        warc = tmp / "big.warc.gz"
        write_warc(warc, pages)
        size = warc.stat().st_size
        print(f"{len(pages)} pages in one WARC of {size / 1e6:.0f} MB")
        results = {}
        for label, split, workers in (("one task, 1 worker", size * 2, 1), ("cut in 8, 1 worker", size // 8, 1),
                                      ("cut in 8, 2 workers", size // 8, 2)):
            job = Job.from_dict({"name": "b", "output": str(tmp / label.replace(" ", "_").replace(",", "")),
                                 "input": {"format": "warc", "paths": [str(warc)], "split_bytes": split,
                                           "max_page_bytes": 50_000_000},
                                 "stages": [{"name": "x", "part_records": 200, "steps": ["extract"]}]})
            t0 = time.perf_counter()
            job.run(workers=workers)
            secs = time.perf_counter() - t0
            ids = sorted(i for p in (Path(job.output) / "x" / "data").glob("*.parquet")
                         for i in pq.read_table(p, columns=["id"])["id"].to_pylist())
            results[label] = (secs, ids)
            print(f"{label:22s} {secs:6.1f} s  {len(pages) / secs:6.1f} pages/s  ({len(ids)} documents)")
        base = results["one task, 1 worker"]
        two = results["cut in 8, 2 workers"]
        assert base[1] == two[1] == results["cut in 8, 1 worker"][1]
        print(f"speed-up with 2 workers on one file: {base[0] / two[0]:.2f}x (same documents)")


if __name__ == "__main__":
    main()
