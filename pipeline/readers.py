"""Readers: WARC, WET, JSONL(.gz/.zst) and Parquet files, on any fsspec path.

A reader yields, in file order, either a row (a dict with the core columns and ``html`` or
``text``), a ``pa.Table`` batch (Parquet), or a ``ReadError`` that says what was wrong and where.
Bad input never raises out of a reader: it becomes a ``ReadError`` and reading goes on where it
can (the next gzip member or WARC record, the next JSONL line).
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import json
import logging
import re
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader
from warcio.exceptions import ArchiveLoadFailed

from cc_cleaner.pipeline.decode import UndecodableError, decode_payload, looks_binary, utf8_payload
from cc_cleaner.pipeline.documents import make_doc_id

HTML_TYPES = ("text/html", "application/xhtml+xml")
# HTTP headers kept with a document (as "name: value" lines in ``headers``): those that state
# rights (filters.rights_signals); a Link header only when it names a licence.
KEPT_HEADERS = ("x-robots-tag", "tdm-reservation", "tdm-policy", "link")


def kept_headers(http_headers: Any) -> str:
    if http_headers is None:
        return ""
    lines = [f"{k}: {v}" for k, v in http_headers.headers if k.lower() in KEPT_HEADERS
             and (k.lower() != "link" or "license" in v.lower())]
    return "\n".join(lines)[:4096]


class InputConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["warc", "wet", "jsonl", "parquet"]
    paths: list[str] = Field(min_length=1)
    source: str | None = None  # value of the ``source`` column; default: the job name
    max_page_bytes: int = Field(default=2_000_000, gt=0)
    # A WARC/WET/ARC file (at gzip member or record boundaries) or a Parquet file (by row
    # groups) larger than this is read by several tasks, so one big file uses every worker.
    split_bytes: int = Field(default=256 * 2**20, gt=0)
    # JSONL/Parquet: where the core fields are (dotted paths into nested JSON objects).
    text_field: str = "text"
    id_field: str | None = "id"
    url_field: str | None = "url"
    source_field: str | None = "source"

    def columns(self) -> frozenset[str]:
        """The columns every document read from this input has."""
        if self.format == "warc":
            return frozenset({"id", "url", "source", "html", "fetch_date", "headers"})
        return frozenset({"id", "url", "source", "text"})


@dataclass
class ReadError:
    file: str
    error: str  # short kind: truncated_record, corrupt_gzip, undecodable, oversized, ...
    message: str
    offset: int | None = None  # byte offset of the record (of the decompressed stream if noted)
    line: int | None = None
    record_id: str | None = None
    url: str | None = None

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, ensure_ascii=False)


Item = dict[str, Any] | pa.Table | ReadError


@dataclass
class Position:
    """How far into the file the reader is (0-1); not a record. Lets a run show progress."""

    fraction: float


@dataclass
class Skip:
    """A record that is fine but not a document (request, revisit, image, redirect, ...)."""

    kind: str


def expand_paths(paths: list[str]) -> list[str]:
    """Expand globs; keep the protocol so that remote paths stay remote. Sorted, deduplicated."""
    out: set[str] = set()
    for p in paths:
        fs, _ = fsspec.core.url_to_fs(p)
        if any(c in p for c in "*?["):
            matches = fs.glob(p)
        elif fs.exists(p):
            matches = [p]
        else:
            raise FileNotFoundError(f"no such file: {p}")
        proto = p.split("://", 1)[0] + "://" if "://" in p else ""
        for m in matches:
            m = m if "://" in m or not proto else proto + m
            out.add(m)
    return sorted(out)


def read_file(path: str, cfg: InputConfig, source: str, positions: bool = False,
              split: tuple[int, int | None] | None = None) -> Iterator[Item | Skip | Position]:
    """Documents (rows or tables), ReadErrors and Skips of one input file (of its ``split``: a
    byte range of a WARC, a row-group range of a Parquet file; see ``input_splits``); with
    ``positions``, also Position markers saying how far into it the reader is."""
    if cfg.format in ("warc", "wet"):
        items = WarcReader(path, cfg, source, *(split or (0, None))).read()
    elif cfg.format == "jsonl":
        items = read_jsonl(path, cfg, source)
    else:
        items = read_parquet(path, cfg, source, row_groups=split)
    for item in items:
        if positions or not isinstance(item, Position):
            yield item


def read_urls(path: str, cfg: InputConfig, source: str, split: tuple[int, int | None] | None = None) -> Iterator[str]:
    """The URLs of a file's documents, read cheaply: of WARC/WET, the target URI of every
    response (conversion) record with its payload left unread and undecoded (a superset: records
    that go to errors/ are included); of JSONL and Parquet, the documents' ``url``."""
    if cfg.format in ("warc", "wet"):
        yield from WarcReader(path, cfg, source, *(split or (0, None))).urls()
        return
    for item in read_file(path, cfg, source, split=split):
        if isinstance(item, pa.Table):
            if "url" in item.column_names:
                yield from (u for u in item["url"].to_pylist() if u)
        elif isinstance(item, dict) and item.get("url"):
            yield item["url"]


# --- WARC / WET ------------------------------------------------------------------------


class WarcReader:
    """WARC (and ARC, WET) records through warcio, resynchronising after a corrupt record.

    ``start``/``end``: read only the records that start in that byte range (a split of a big
    file; the range starts at the next gzip member or WARC header at or after ``start``)."""

    def __init__(self, path: str, cfg: InputConfig, source: str, start: int = 0, end: int | None = None) -> None:
        self.path, self.cfg, self.source = path, cfg, source
        self.wet = cfg.format == "wet"
        self.start, self.end = start, end

    def read(self) -> Iterator[Item | Skip | Position]:
        size = (self.end or _size(self.path)) - self.start
        for n, rec in enumerate(self.records()):
            if isinstance(rec, ReadError):
                yield rec
            else:
                with _quiet_warcio():
                    item = self._record(*rec)
                yield item
                if size > 0 and n % 64 == 63:
                    yield Position(min(1.0, max(0.0, (rec[1] - self.start) / size)))

    def urls(self) -> Iterator[str]:
        want = "conversion" if self.wet else "response"
        for rec in self.records():
            if isinstance(rec, ReadError):
                continue
            with _quiet_warcio():
                r = rec[0]
                url = (r.rec_headers.get_header("WARC-Target-URI") or "").strip() if r.rec_type == want else ""
                r.content_stream().read(1)  # the iterator skips the rest without buffering it
            if url:
                yield url

    def records(self) -> Iterator[tuple[Any, int] | ReadError]:
        """Every readable record with its byte offset, and a ReadError where one could not be read
        (the reader resynchronises at the next gzip member or WARC header). A record must be
        consumed before the next is asked for."""
        try:
            f = fsspec.open(self.path, "rb").open()
        except OSError as e:
            yield ReadError(self.path, "unreadable_file", _msg(e), offset=0)
            return
        with f:
            head = f.read(2)
            gz = head == b"\x1f\x8b"
            if self.start == 0:
                start_bytes = _first_bytes(f, gz)
                if not start_bytes.startswith((b"WARC/", b"filedesc://")) and not _ARC_LINE.match(start_bytes):
                    shown = start_bytes[:60].decode("utf-8", "replace")
                    yield ReadError(self.path, "not_warc", f"does not start with a WARC or ARC record: {shown!r}",
                                    offset=0)
                    return
            # (_resync finds "\nWARC/" for plain WARC: back one byte, so a record at ``start`` is ours)
            start: int | None = self.start if self.start == 0 else _resync(f, self.start - (not gz), gz)
            # A split starts at what looks like a record; until one record has been read from
            # it, what fails to read was not a record (a gzip magic inside compressed data).
            settled, n_done = self.start == 0, 0
            while start is not None and (self.end is None or start < self.end):
                f.seek(start)
                it = ArchiveIterator(f, arc2warc=True, check_digests=False)
                offset = start
                try:
                    for rec in _quietly(it):
                        offset = it.offset  # absolute; get_record_offset() would consume the record
                        if self.end is not None and offset >= self.end:
                            return  # the next split's first record
                        n_done += 1
                        settled = True
                        yield rec, offset
                    start = None
                except (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError) as e:
                    if gz and "non-chunked gzip" in str(e):
                        if self.start == 0:  # one gzip stream for the whole file: read it decompressed
                            yield from self._read_whole_gzip(n_done)
                        return  # (and only the first split does)
                    offset = it.offset  # the failed record's start (warcio moved past the last good one)
                    if settled:
                        yield ReadError(self.path, "corrupt_record", _msg(e), offset=offset)
                    start = _resync(f, offset + 1, gz)

    def _read_whole_gzip(self, skip: int) -> Iterator[tuple[Any, int] | ReadError]:
        with fsspec.open(self.path, "rb") as raw, gzip.GzipFile(fileobj=raw) as f:
            it = ArchiveIterator(f, arc2warc=True, check_digests=False)
            offset = 0
            try:
                for i, rec in enumerate(_quietly(it)):
                    offset = it.offset
                    if i >= skip:
                        yield rec, offset
            except (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError) as e:
                yield ReadError(self.path, "corrupt_gzip", _msg(e) + " (offset in decompressed stream)",
                                offset=offset)

    def _record(self, rec: Any, offset: int) -> Item | Skip:
        h = rec.rec_headers
        url = (h.get_header("WARC-Target-URI") or "").strip() or None
        # ARC records get a random WARC-Record-ID from warcio; the file position is stable.
        rid = None if rec.format.startswith("arc") else h.get_header("WARC-Record-ID")
        want = "conversion" if self.wet else "response"
        if rec.rec_type != want:
            rec.content_stream().read(1)  # let the iterator skip the rest without buffering it
            return Skip(rec.rec_type or "unknown")
        err = self._check_headers(rec, offset, rid, url)
        if err is not None:
            return err
        limit = self.cfg.max_page_bytes
        payload = _read_capped(rec.content_stream(), limit + 1)
        if len(payload) > limit:
            return ReadError(self.path, "oversized", f"payload over max_page_bytes={limit}",
                             offset, record_id=rid, url=url)
        if rec.raw_stream.limit > 0 and not self._fully_read(rec):
            return ReadError(self.path, "truncated_record",
                             f"record ends {rec.raw_stream.limit} bytes before its Content-Length",
                             offset, record_id=rid, url=url)
        if self.wet:
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError as e:
                return ReadError(self.path, "undecodable", _msg(e), offset, record_id=rid, url=url)
            refers = h.get_header("WARC-Refers-To") or rid
            return self._row(refers or self._position(offset), url, text=text)
        if looks_binary(payload):
            return ReadError(self.path, "binary_payload", "payload has NUL bytes", offset,
                             record_id=rid, url=url)
        ctype = rec.http_headers.get_header("Content-Type") if rec.http_headers else None
        # A UTF-8 page stays bytes (what its decoding would encode back to) until it is a column.
        html: str | bytes | None = utf8_payload(payload, ctype)
        if html is None:
            try:
                html, _ = decode_payload(payload, ctype, url)
            except UndecodableError as e:
                return ReadError(self.path, "undecodable", str(e), offset, record_id=rid, url=url)
        return self._row(rid or self._position(offset), url, html=html,
                         fetch_date=h.get_header("WARC-Date"), headers=kept_headers(rec.http_headers))

    def _fully_read(self, rec: Any) -> bool:
        """A short read of a capped payload is fine; check whether the stream really ended."""
        return rec.raw_stream.read(1) == b"" and rec.raw_stream.limit == 0

    def _check_headers(self, rec: Any, offset: int, rid: str | None, url: str | None) -> Item | Skip | None:
        if self.wet:
            return None
        status = (rec.http_headers.get_statuscode() or "") if rec.http_headers else ""
        if not status:
            return ReadError(self.path, "malformed_http", "response record without an HTTP status line",
                             offset, record_id=rid, url=url)
        if not status.startswith("2"):
            return Skip(f"http_{status}")
        ctype = (rec.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype and ctype not in HTML_TYPES:
            rec.content_stream().read(1)
            return Skip("not_html")
        encoding = (rec.http_headers.get_header("Content-Encoding") or "").strip().lower()
        if encoding not in ("", "identity") and encoding not in BufferedReader.get_supported_decompressors():
            rec.content_stream().read(1)  # (a crawler that kept the payload as served: zstd, say)
            return ReadError(self.path, "unsupported_encoding", f"payload Content-Encoding {encoding!r} is not one "
                             "this reader decodes", offset, record_id=rid, url=url)
        declared = rec.rec_headers.get_header("Content-Length")
        if declared and declared.isdigit() and int(declared) > 4 * self.cfg.max_page_bytes:
            # Do not even decompress a record that is far over the cap.
            return ReadError(self.path, "oversized", f"record Content-Length {declared} over cap",
                             offset, record_id=rid, url=url)
        return None

    def _position(self, offset: int) -> str:
        return f"{self.path.rsplit('/', 1)[-1]}@{offset}"

    def _row(self, key: str, url: str | None, **cols: Any) -> dict[str, Any]:
        return {"id": make_doc_id("warc", key), "url": url, "source": self.source, **cols}


_ARC_LINE = re.compile(rb"^\S+://\S* \d{1,3}(\.\d{1,3}){3} \d{14} ")  # an ARC record's header line
logging.getLogger("warcio").setLevel(logging.ERROR)  # it logs a warning per odd URI


def _size(path: str) -> int:
    try:
        fs, p = fsspec.core.url_to_fs(path)
        return int(fs.size(p) or 0)
    except (OSError, ValueError):
        return 0


def _first_bytes(f: Any, gz: bool, n: int = 64) -> bytes:
    """The first bytes of the (decompressed) file, skipping leading blank lines."""
    f.seek(0)
    try:
        data = gzip.GzipFile(fileobj=f).read(n + 16) if gz else f.read(n + 16)
    except (OSError, EOFError, zlib.error):
        data = b"WARC/"  # a corrupt start: let the record loop report it where it is
    f.seek(0)
    return data.lstrip(b"\r\n")[:n]


@contextlib.contextmanager
def _quiet_warcio() -> Iterator[None]:
    """warcio writes some complaints straight to stderr; ours go to errors/ instead."""
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def _quietly(it: Any) -> Iterator[Any]:
    """The iterator's items, with stderr silenced while warcio looks for each (not while the
    caller holds one)."""
    it = iter(it)
    while True:
        with _quiet_warcio():
            try:
                rec = next(it)
            except StopIteration:
                return
        yield rec


def _read_capped(stream: Any, cap: int, block: int = 1 << 16) -> bytes:
    """Read up to ``cap`` bytes in blocks (warcio's decoding readers mishandle very large reads)."""
    chunks, n = [], 0
    while n < cap:
        b = stream.read(min(block, cap - n))
        if not b:
            break
        chunks.append(b)
        n += len(b)
    return b"".join(chunks)


def _msg(e: BaseException) -> str:
    return " ".join(f"{type(e).__name__}: {e}".split())[:500]


def _resync(f: Any, pos: int, gz: bool, window: int = 1 << 20) -> int | None:
    """Offset of the next gzip member (or WARC header line) at or after ``pos``."""
    magic = b"\x1f\x8b\x08" if gz else b"\nWARC/"
    f.seek(pos)
    carry = b""
    base = pos
    while True:
        chunk = f.read(window)
        if not chunk:
            return None
        buf = carry + chunk
        i = buf.find(magic)
        if i >= 0:
            return base - len(carry) + i + (0 if gz else 1)
        carry = buf[-(len(magic) - 1):]
        base += len(chunk)


# --- JSONL -----------------------------------------------------------------------------


def _get(obj: Any, dotted: str | None) -> Any:
    if dotted is None:
        return None
    for key in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def read_jsonl(path: str, cfg: InputConfig, source: str) -> Iterator[Item | Position]:
    lineno = 0
    try:
        size = _size(path)
        fs, fpath = fsspec.core.url_to_fs(path)
        raw = fs.open(fpath, "rb")
        codec = fsspec.utils.infer_compression(path)
        f = fsspec.compression.compr[codec](raw, mode="rb") if codec else raw
    except (OSError, ValueError) as e:
        yield ReadError(path, "unreadable_file", _msg(e), line=1)
        return
    try:
        with f, raw:
            for lineno, line in enumerate(io.BufferedReader(f), 1):  # noqa: B007
                if size and lineno % 1024 == 0:
                    yield Position(min(1.0, raw.tell() / size))  # of the compressed file
                if line.startswith(codecs.BOM_UTF8):  # a file saved by Notepad or PowerShell, or
                    line = line[3:]  # files joined with cat: no JSON value starts with one
                if not line.strip():
                    continue
                yield _jsonl_row(path, lineno, line, cfg, source)
    except (OSError, EOFError, zlib.error) as e:  # corrupt or cut compressed stream
        yield ReadError(path, "corrupt_compression", _msg(e), line=lineno + 1)
    except Exception as e:  # zstandard raises its own error type
        if type(e).__module__.startswith("zstandard"):
            yield ReadError(path, "corrupt_compression", _msg(e), line=lineno + 1)
        else:
            raise


def _jsonl_row(path: str, lineno: int, raw: bytes, cfg: InputConfig, source: str) -> Item:
    if len(raw) > cfg.max_page_bytes:
        return ReadError(path, "oversized", f"line over max_page_bytes={cfg.max_page_bytes}", line=lineno)
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return ReadError(path, "bad_json", _msg(e), line=lineno)
    text = _get(obj, cfg.text_field)
    if not isinstance(text, str):
        return ReadError(path, "no_text", f"field {cfg.text_field!r} missing or not a string", line=lineno)
    given = _get(obj, cfg.id_field)
    url = _get(obj, cfg.url_field)
    src = _get(obj, cfg.source_field)
    return {
        "id": str(given) if given is not None else make_doc_id("jsonl", path.rsplit("/", 1)[-1], str(lineno)),
        "text": text,
        "url": url if isinstance(url, str) else None,
        "source": src if isinstance(src, str) else source,
    }


# --- Parquet ---------------------------------------------------------------------------


def read_parquet(path: str, cfg: InputConfig, source: str, batch_rows: int = 8192,
                 row_groups: tuple[int, int | None] | None = None) -> Iterator[Item | Position]:
    """Row batches with the core columns. Bad input never stops the job: a file that cannot be
    opened, a text column that is missing or not text, and a row group that cannot be decoded
    are errors of the file (with the first row they cover); rows whose text is null are errors
    of their own, with their row number; the good rows go on."""
    row0 = 0
    try:
        with fsspec.open(path, "rb") as f:
            pf = pq.ParquetFile(f)
            g0, g1 = row_groups or (0, None)
            g1 = pf.metadata.num_row_groups if g1 is None else g1
            problem = _text_column_problem(pf.schema_arrow, cfg.text_field)
            if problem:
                if g0 == 0:  # said once, by the file's first split
                    yield ReadError(path, problem[0], problem[1], line=1)
                return
            row0 = sum(pf.metadata.row_group(g).num_rows for g in range(g0))
            first = row0
            total = max(1, sum(pf.metadata.row_group(g).num_rows for g in range(g0, g1)))
            for batch in pf.iter_batches(batch_size=batch_rows, row_groups=list(range(g0, g1))):
                table, undecodable = normalize_table(pa.Table.from_batches([batch]), cfg, source, path, row0)
                yield from _split_null_text(table, path, row0, undecodable)
                row0 += batch.num_rows
                yield Position((row0 - first) / total)
    except (OSError, ValueError, pa.ArrowException) as e:  # not Parquet, cut short, a corrupt page
        yield ReadError(path, "corrupt_file" if row0 else "unreadable_file", _msg(e), line=row0 + 1)


def input_splits(path: str, cfg: InputConfig) -> list[tuple[int, int | None] | None]:
    """How one input file is cut into tasks: byte ranges of a WARC/WET/ARC file, row-group ranges
    of a Parquet file, each about ``split_bytes``; ``[None]``: the file is one task (small, JSONL)."""
    size = _size(path)
    if size <= cfg.split_bytes:
        return [None]
    fs, p = fsspec.core.url_to_fs(path)
    if cfg.format in ("warc", "wet"):
        with fs.open(p, "rb") as f:
            first = _first_bytes(f, f.read(2) == b"\x1f\x8b")
        if not first.startswith(b"WARC/"):  # ARC: its records are read with the file's header record
            return [None]
        n = -(-size // cfg.split_bytes)
        return [(k * cfg.split_bytes, (k + 1) * cfg.split_bytes if k < n - 1 else None) for k in range(n)]
    if cfg.format == "parquet":
        try:
            with fs.open(p, "rb") as f:
                md = pq.ParquetFile(f).metadata
        except (OSError, ValueError, pa.ArrowException):
            return [None]
        out, g0, acc = [], 0, 0
        for g in range(md.num_row_groups):
            acc += md.row_group(g).total_byte_size
            if acc >= cfg.split_bytes:
                out.append((g0, g + 1))
                g0, acc = g + 1, 0
        if g0 < md.num_row_groups:
            out.append((g0, md.num_row_groups))
        return out if len(out) > 1 else [None]
    return [None]


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_bytes(t: pa.DataType) -> bool:
    return pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)


def _text_column_problem(schema: pa.Schema, field: str) -> tuple[str, str] | None:
    if field not in schema.names:
        return "missing_field", f"no column {field!r} (columns: {', '.join(schema.names[:20])})"
    t = schema.field(field).type
    value = t.value_type if pa.types.is_dictionary(t) else t
    # Strings, a dictionary of them (pandas categoricals), or bytes: writers that leave out
    # Parquet's UTF-8 annotation (older Hive, Impala and Spark) store text as plain binary.
    if not (_is_text(value) or _is_bytes(value)):
        return "mistyped_field", f"column {field!r} is {t}, not text"
    return None


def _decoded_text(col: pa.ChunkedArray) -> tuple[pa.ChunkedArray | pa.Array, frozenset[int]]:
    """A text column as strings, and the rows whose bytes are not UTF-8 (null from here on)."""
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    bad: set[int] = set()
    if _is_bytes(col.type):
        try:
            col = col.cast(pa.string())  # validates every value as UTF-8
        except pa.ArrowInvalid:
            values = []
            for i, b in enumerate(col.to_pylist()):
                try:
                    values.append(None if b is None else b.decode("utf-8"))
                except UnicodeDecodeError:
                    values.append(None)
                    bad.add(i)
            col = pa.array(values, pa.string())
    return (col if col.type == pa.string() else col.cast(pa.string())), frozenset(bad)


def _split_null_text(table: pa.Table, path: str, row0: int, undecodable: frozenset[int] = frozenset()
                     ) -> Iterator[Item]:
    """The rows with text, as one table; each row without text (or whose bytes were not UTF-8:
    ``undecodable``) as a ReadError (1-based row number)."""
    null = table["text"].is_null()
    if not pc.any(null).as_py():
        yield table
        return
    for i in np.flatnonzero(null.to_numpy(zero_copy_only=False)):
        kind, why = ("undecodable", "text is not UTF-8") if int(i) in undecodable else ("no_text", "text is null")
        yield ReadError(path, kind, why, line=row0 + int(i) + 1, record_id=table["id"][int(i)].as_py())
    yield table.filter(pc.invert(null))


def normalize_table(table: pa.Table, cfg: InputConfig, source: str, path: str, row0: int
                    ) -> tuple[pa.Table, frozenset[int]]:
    """Rename the configured columns to the core names, the text as strings; fill the core
    columns that are missing (ids that are missing or null are derived from the file and row).
    Also returns the rows whose text bytes are not UTF-8 (their text is null)."""
    mapping = {cfg.text_field: "text", cfg.id_field: "id", cfg.url_field: "url", cfg.source_field: "source"}
    cols = table.column_names
    names = [mapping[c] if c in mapping and mapping[c] not in cols else c for c in cols]
    table = table.rename_columns(names)
    text, undecodable = _decoded_text(table["text"])
    table = table.set_column(table.column_names.index("text"), "text", text)
    n = table.num_rows
    base = path.rsplit("/", 1)[-1]
    if "id" not in table.column_names:
        table = table.append_column("id", pa.array([make_doc_id("parquet", base, str(row0 + i)) for i in range(n)]))
    else:
        ids = table["id"].cast(pa.string()) if table.schema.field("id").type != pa.string() else table["id"]
        if ids.null_count:
            filled = [v if v is not None else make_doc_id("parquet", base, str(row0 + i))
                      for i, v in enumerate(ids.to_pylist())]
            ids = pa.chunked_array([pa.array(filled, pa.string())])
        table = table.set_column(table.column_names.index("id"), "id", ids)
    for col in ("url", "source"):
        if col in table.column_names and table.schema.field(col).type != pa.string():
            try:
                table = table.set_column(table.column_names.index(col), col, table[col].cast(pa.string()))
            except pa.ArrowException:  # a nested value cannot be a url or a source name
                table = table.set_column(table.column_names.index(col), col, pa.nulls(n, pa.string()))
    if "url" not in table.column_names:
        table = table.append_column("url", pa.nulls(n, pa.string()))
    if "source" not in table.column_names:
        table = table.append_column("source", pa.array([source] * n, pa.string()))
    elif table["source"].null_count:
        table = table.set_column(table.column_names.index("source"), "source", pc.fill_null(table["source"], source))
    return table, undecodable
