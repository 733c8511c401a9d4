"""One big WARC on one worker vs cut into byte ranges on two (this machine has two cores).

    python tests/bench/bench_split.py [--repeat 5]

Builds one WARC from every real page in ../shared/data/html_extraction (``--repeat`` times, under
other URLs: 5 makes a WARC of about 1.1 GB of records), runs an extract stage with the file as
one task (1 worker) and cut into >= 8 ranges (1 and 2 workers), checks that the documents are
the same, every column of every row, and prints pages/s and the speed-up.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from cc_cleaner.pipeline.job import Job  # noqa: E402

from conftest import SHARED  # noqa: E402
from helpers import write_warc  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    files = sorted((SHARED / "html_extraction").rglob("*.html.gz"))
    html = [gzip.decompress(p.read_bytes()) for p in files]
    pages = [(f"https://bench{r}.example/{i}", h, "text/html") for r in range(args.repeat) for i, h in enumerate(html)]
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        warc = tmp / "big.warc.gz"
        write_warc(warc, pages)
        size = warc.stat().st_size
        records = sum(len(h) for _, h, _ in pages)
        print(f"{len(pages)} pages ({records / 1e9:.2f} GB of HTML) in one WARC of {size / 1e6:.0f} MB gzipped")
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
            data = sorted(Path(job.output, "x", "data").glob("*.parquet"))
            rows = pa.concat_tables([pq.read_table(p) for p in data], promote_options="default").sort_by("id")
            digest = hashlib.sha256(b"".join(json.dumps(r, sort_keys=True, default=str).encode()
                                             for r in rows.to_pylist())).hexdigest()
            results[label] = (secs, digest)
            print(f"{label:22s} {secs:6.1f} s  {len(pages) / secs:6.1f} pages/s  ({rows.num_rows} documents, "
                  f"{len(data)} parts, {len(list(Path(job.output, '_state', 'x', 'tasks').glob('*.done')))} tasks, "
                  f"rows sha256 {digest[:12]})")
        base = results["one task, 1 worker"]
        two = results["cut in 8, 2 workers"]
        assert base[1] == two[1] == results["cut in 8, 1 worker"][1]
        print(f"speed-up with 2 workers on one file: {base[0] / two[0]:.2f}x (the same rows, every column)")


if __name__ == "__main__":
    main()
