from __future__ import annotations

import codecs
import gzip
import json
import re
import zlib
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from cc_cleaner.pipeline.decode import UndecodableError, decode_payload, is_utf8, utf8_chars, utf8_payload
from cc_cleaner.pipeline.readers import InputConfig, ReadError, Skip, read_file, read_urls

from conftest import shared_path
from helpers import article_pages, write_warc

BROKEN = {  # file -> error kinds the reader must report
    "resiliparse/clipped.warc.gz": {"truncated_record"},
    "warcio_test_fixtures/bad.arc": {"malformed_http"},
    "warcio_test_fixtures/example-wrong-chunks.warc.gz": {"truncated_record", "corrupt_record"},
    "warcio_test_fixtures/example-space-in-url.arc": {"truncated_record"},
}
DOCS = {  # file -> HTML documents it holds
    "dolma/sample-0000.warc.gz": 22, "dolma/sample-0001.warc.gz": 15, "resiliparse/warcfile.warc.gz": 16,
    "resiliparse/clueweb-quirk.warc.gz": 29, "pywb/iana.warc.gz": 16, "commoncrawl_whirlwind/whirlwind.warc.gz": 1,
    # one gzip stream for the whole file: recovered by reading it decompressed
    "warcio_test_fixtures/example-bad-non-chunked.warc.gz": 1,
}


def scan(path, fmt="warc"):
    cfg = InputConfig(format=fmt, paths=[str(path)])
    docs, errors, skips = [], [], Counter()
    for item in read_file(str(path), cfg, "test"):
        if isinstance(item, ReadError):
            errors.append(item)
        elif isinstance(item, Skip):
            skips[item.kind] += 1
        else:
            docs.append(item)
    return docs, errors, skips


def test_every_real_warc_file_parses_or_reports():
    root = shared_path("warc")
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix not in (".md",)
             and "json" not in p.name and "wat" not in p.name]
    assert len(files) >= 25
    for p in files:
        rel = str(p.relative_to(root))
        docs, errors, _ = scan(p, "wet" if ".wet" in p.name else "warc")
        kinds = {e.error for e in errors}
        assert kinds == BROKEN.get(rel, set()), rel
        if rel in DOCS:
            assert len(docs) == DOCS[rel], rel
        for d in docs:
            assert d["id"] and d["html" if "html" in d else "text"] is not None
        for e in errors:
            assert e.file == str(p) and e.offset is not None


def test_warc_ids_are_stable_and_unique():
    p = shared_path("warc", "resiliparse", "clueweb-quirk.warc.gz")
    a = [d["id"] for d in scan(p)[0]]
    b = [d["id"] for d in scan(p)[0]]
    assert a == b and len(set(a)) == len(a)


def test_warc_skips_requests_revisits_and_non_html():
    _, _, skips = scan(shared_path("warc", "pywb", "iana.warc.gz"))
    assert skips["revisit"] == 123 and skips["request"] == 171 and skips["not_html"] == 28


def test_wet_conversion_record():
    docs, errors, _ = scan(shared_path("warc", "commoncrawl_whirlwind", "whirlwind.warc.wet.gz"), "wet")
    assert not errors and len(docs) == 1
    assert "Escopete" in docs[0]["text"] and docs[0]["url"].endswith("/Escopete")
    # The WET text gets the id of the WARC response it was converted from.
    warc_docs, _, _ = scan(shared_path("warc", "commoncrawl_whirlwind", "whirlwind.warc.gz"))
    assert docs[0]["id"] == warc_docs[0]["id"]


def test_oversized_page_is_an_error(tmp_path):
    from helpers import write_warc

    p = tmp_path / "big.warc.gz"
    write_warc(p, [("http://a.example/", b"<html><p>" + b"x" * 5000 + b"</p></html>", "text/html"),
                   ("http://b.example/", b"<html><p>small</p></html>", "text/html")])
    cfg = InputConfig(format="warc", paths=[str(p)], max_page_bytes=1000)
    items = [i for i in read_file(str(p), cfg, "t") if not isinstance(i, Skip)]
    assert isinstance(items[0], ReadError) and items[0].error == "oversized"
    assert items[1]["url"] == "http://b.example/"


def test_payloads_kept_as_served_are_decoded(tmp_path):
    """Crawlers that keep the payload as the server sent it (wget, Browsertrix) leave it
    compressed or chunked; the page read is the same page. An encoding no decoder reads is an
    error of its own, not a page of compressed bytes."""
    import brotlicffi

    real = article_pages(shared_path("html_extraction").parent, limit=3)
    encoders = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotlicffi.compress}

    def chunk(b: bytes) -> bytes:
        return b"".join(b"%x\r\n%s\r\n" % (len(b[i:i + 700]), b[i:i + 700]) for i in range(0, len(b), 700)) + b"0\r\n\r\n"

    served = [(url, body, ctype) for url, body, ctype in real]
    for name, enc in encoders.items():
        served += [(f"{url}?{name}", enc(body), ctype, [("Content-Encoding", name)]) for url, body, ctype in real]
    served += [(f"{url}?chunked", chunk(body), ctype, [("Transfer-Encoding", "chunked")]) for url, body, ctype in real]
    served += [(f"{real[0][0]}?zstd", zstandard.ZstdCompressor().compress(real[0][1]), "text/html",
                [("Content-Encoding", "zstd")])]
    p = tmp_path / "served.warc.gz"
    write_warc(p, served)
    items = [i for i in read_file(str(p), InputConfig(format="warc", paths=[str(p)]), "t") if not isinstance(i, Skip)]
    html = {i["url"]: i["html"] for i in items if isinstance(i, dict)}
    assert len(html) == 15
    for url, _, _ in real:
        for how in ("gzip", "deflate", "br", "chunked"):
            assert html[f"{url}?{how}"] == html[url], how
    errs = [i for i in items if isinstance(i, ReadError)]
    assert [(e.error, e.url) for e in errs] == [("unsupported_encoding", f"{real[0][0]}?zstd")]


def test_corrupt_member_in_the_middle_resyncs(tmp_path):
    from helpers import write_warc

    p = tmp_path / "mid.warc.gz"
    pages = [(f"http://h.example/{i}", f"<html><p>page {i}</p></html>".encode(), "text/html") for i in range(5)]
    write_warc(p, pages)
    data = bytearray(p.read_bytes())
    # Find the third gzip member and corrupt its deflate data.
    starts = [i for i in range(len(data) - 2) if data[i:i + 3] == b"\x1f\x8b\x08"]
    data[starts[2] + 20: starts[2] + 40] = b"\xff" * 20
    p.write_bytes(bytes(data))
    docs, errors, _ = scan(p)
    assert [d["url"] for d in docs] == [f"http://h.example/{i}" for i in (0, 1, 3, 4)]
    assert len(errors) == 1 and errors[0].offset == starts[2]


def test_jsonl_dolma_with_nested_url():
    p = shared_path("warc", "dolma_cc_text", "cc_en_head-0091.jsonl.gz")
    cfg = InputConfig(format="jsonl", paths=[str(p)], url_field="metadata.url")
    items = list(read_file(str(p), cfg, "cc"))
    assert len(items) == 10 and all(isinstance(i, dict) for i in items)
    assert all(i["url"].startswith("http") and i["text"] and i["id"] for i in items)


def test_jsonl_bad_lines_and_cut_gzip(tmp_path):
    lines = [json.dumps({"text": f"doc {i}"}) for i in range(50)]
    lines[3] = "{not json"
    lines[7] = json.dumps({"body": "no text field"})
    raw = ("\n".join(lines) + "\n").encode()
    p = tmp_path / "a.jsonl.gz"
    p.write_bytes(gzip.compress(raw))
    items = list(read_file(str(p), InputConfig(format="jsonl", paths=[str(p)]), "s"))
    errs = [i for i in items if isinstance(i, ReadError)]
    assert [(e.error, e.line) for e in errs] == [("bad_json", 4), ("no_text", 8)]
    assert len(items) == 50
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(raw)[:-30])
    items = list(read_file(str(cut), InputConfig(format="jsonl", paths=[str(cut)]), "s"))
    assert isinstance(items[-1], ReadError) and items[-1].error == "corrupt_compression"
    zst = tmp_path / "a.jsonl.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(raw))
    items = list(read_file(str(zst), InputConfig(format="jsonl", paths=[str(zst)]), "s"))
    assert sum(isinstance(i, dict) for i in items) == 48
    # A byte-order mark (Notepad, PowerShell; files joined with cat) is no bad line; CRLF ends.
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(codecs.BOM_UTF8 + b"\r\n".join(x.encode() for x in lines[:3]) + b"\r\n" + codecs.BOM_UTF8
                    + lines[4].encode() + b"\n")
    items = list(read_file(str(bom), InputConfig(format="jsonl", paths=[str(bom)]), "s"))
    assert [i["text"] for i in items] == ["doc 0", "doc 1", "doc 2", "doc 4"]


def test_parquet_input_renames_and_fills(tmp_path):
    p = tmp_path / "x.parquet"
    pq.write_table(pa.table({"content": ["a", "b"], "lang": ["en", "zh"]}), p)
    cfg = InputConfig(format="parquet", paths=[str(p)], text_field="content")
    (t,) = list(read_file(str(p), cfg, "src"))
    assert t.column("text").to_pylist() == ["a", "b"] and t.column("source").to_pylist() == ["src", "src"]
    assert len(set(t.column("id").to_pylist())) == 2 and "lang" in t.column_names


def test_decode_declared_meta_and_guess():
    text = "绿茶属于不发酵茶，茶叶细嫩，冲泡方法不当很容易让茶汤发苦。" * 5
    gbk = f"<html><body>{text}</body></html>".encode("gbk")
    assert decode_payload(gbk, "text/html; charset=gb2312")[0].count("绿茶") == 5
    meta = f'<html><head><meta charset="gbk"></head><body>{text}</body></html>'.encode("gbk")
    assert "绿茶" in decode_payload(meta, None)[0]
    assert "绿茶" in decode_payload(gbk, None)[0]  # no declaration: detected
    assert decode_payload(b"caf\xc3\xa9", "text/html; charset=bogus-charset")[0] == "café"
    with pytest.raises(UndecodableError):
        decode_payload(bytes(range(128, 256)) * 3 + b"\x00" * 50, None)


def test_utf8_pages_pass_as_the_bytes_their_decoding_encodes_to():
    """``utf8_payload`` gives a page's own bytes exactly where ``decode_payload`` decodes it as
    UTF-8 (the reader then hands the bytes to Arrow): on every real page, with and without the
    HTTP charsets that send it elsewhere, and on bytes that strict UTF-8 rejects."""
    import random

    pages = [gzip.decompress(p.read_bytes()) for p in sorted(shared_path("html_extraction").rglob("*.html.gz"))]
    pages += [codecs.BOM_UTF8 + b"bom", b"caf\xc3\xa9", b"\xed\xa0\x80 surrogate", b"\xc0\xaf overlong",
              b"\xf4\x90\x80\x80 past U+10FFFF", b"\xe6\x97 cut", b"plain", b"", "绿茶".encode("gbk")]
    rng = random.Random(7)
    pages += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 12))) for _ in range(3000)]
    passed = 0
    for page in pages:
        for ctype in (None, "text/html; charset=utf-8", "text/html; charset=windows-1252", "text/html; charset=gbk"):
            raw = utf8_payload(page, ctype)
            try:
                text, cs = decode_payload(page, ctype)
            except UndecodableError:
                text, cs = None, None
            if raw is not None:
                assert raw is page and cs == "utf-8" and text == page.decode("utf-8")
                assert utf8_chars(raw) == len(text)
                passed += 1
        try:
            page.decode("utf-8")
            strict = True
        except UnicodeDecodeError:
            strict = False
        assert is_utf8(page) == strict, page[:80]
    assert passed > 3000, passed


def test_chinese_pages_decode_like_their_cleaned_text():
    """GB2312/GBK/UTF-8 pages, most without a usable declaration, decode to their real text."""
    import html as html_lib
    import re

    squash = re.compile(r"[\s\u00b7\u3000]+")
    root = shared_path("html_extraction", "chinese_web_content_extraction")
    pages = sorted((root / "original").glob("*.html.gz"))
    assert len(pages) >= 60
    ok = 0
    for p in pages:
        html = squash.sub("", html_lib.unescape(decode_payload(gzip.decompress(p.read_bytes()), None)[0]))
        cleaned = (root / "cleaned" / p.name.replace(".html.gz", ".txt")).read_text(encoding="utf-8")
        lines = [squash.sub("", ln) for ln in cleaned.splitlines()]
        sample = [ln[:6] for ln in lines if len(ln) >= 12][:5]
        ok += bool(sample) and sum(s in html for s in sample) >= 0.6 * len(sample)
    assert ok >= 0.95 * len(pages), ok


# --- charsets of pages that declare none (WHATWG fallback by domain, then detection) --------------

_LEGACY = {"fr": "cp1252", "de": "cp1252", "es": "cp1252", "it": "cp1252", "da": "cp1252", "pl": "cp1250",
           "cs": "cp1250", "ru": "cp1251", "uk": "cp1251", "bg": "cp1251", "el": "cp1253", "tr": "cp1254",
           "he": "cp1255", "ar": "cp1256", "lt": "cp1257", "th": "cp874", "zh": "gb18030", "ja": "cp932",
           "ko": "cp949"}
_TLD_OF = {"cp1252": "fr", "cp1250": "pl", "cp1251": "ru", "cp1253": "gr", "cp1254": "tr", "cp1255": "il",
           "cp1256": "sa", "cp1257": "lt", "cp874": "th", "gb18030": "cn", "cp932": "jp", "cp949": "kr"}


def _legacy_pages() -> list[tuple[str, str, bytes, str]]:
    """(lang, encoding, page bytes, page text): real sentences in 19 languages as undeclared pages."""
    root = shared_path("multilingual_text", "lingua_language_testdata", "sentences")
    pages = []
    for lang, enc in _LEGACY.items():
        sents = gzip.decompress((root / f"{lang}.txt.gz").read_bytes()).decode("utf-8").splitlines()
        for k in range(4):
            chosen = [s for s in sents[k * 40:(k + 1) * 40] if s.encode(enc, "ignore").decode(enc) == s][:8]
            body = ("<!DOCTYPE html><html><head><title>t</title><script>var x = 1;</script></head><body>"
                    + "".join(f"<p>{s}</p>" for s in chosen) + "</body></html>")
            pages.append((lang, enc, body.encode(enc), body))
    return pages


def test_undeclared_legacy_pages_decode_by_domain_then_detection():
    pages = _legacy_pages()
    with_tld = sum(decode_payload(raw, "text/html", f"http://example.{_TLD_OF[enc]}/")[0] == body
                   for _, enc, raw, body in pages)
    on_com = [lang for lang, _, raw, body in pages if decode_payload(raw, "text/html", "http://example.com/")[0] != body]
    assert with_tld == len(pages)  # the domain's fallback, as browsers use it, is never overruled wrongly
    # A .com page has no such hint: detection gets all but some Central European pages, whose
    # windows-1250 letters also read as windows-1252 letters (as browsers show them too).
    assert len(on_com) <= 0.05 * len(pages) and set(on_com) <= {"cs", "pl"}, on_com


def test_undeclared_real_chinese_pages_and_wrong_declarations():
    root = shared_path("html_extraction", "chinese_web_content_extraction", "original")
    meta = re.compile(rb"<meta[^>]*charset[^>]*>", re.I)
    n = 0
    for p in sorted(root.glob("*.html.gz")):
        raw = gzip.decompress(p.read_bytes())
        text, cs = decode_payload(raw, None, "http://example.com/")
        if cs == "utf-8":
            continue
        n += 1
        bare = meta.sub(b"", raw)
        assert decode_payload(bare, None, "http://example.com/") == (bare.decode(cs, "replace"), cs), p.name
    assert n >= 40  # GB2312/GBK pages, read without any declaration
    french = "<p>Une crème brûlée à Paris, où l'été est chaud.</p>"
    raw = french.encode("cp1252")
    assert decode_payload(raw, "text/html; charset=utf-8", "http://example.com/") == (french, "cp1252")
    assert decode_payload(raw, None, "http://example.fr/")[0] == french


@pytest.mark.parametrize("enc", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_pages_with_a_bom(tmp_path, enc):
    from cc_cleaner.pipeline.decode import looks_binary

    page = "<html><body><p>统一码 Unicode page</p></body></html>"
    raw = (codecs.BOM_UTF16_BE + page.encode("utf-16-be")) if enc == "utf-16-be" else page.encode(enc)
    assert not looks_binary(raw)
    assert decode_payload(raw, "text/html")[0] == page
    p = tmp_path / "u.warc.gz"
    write_warc(p, [("http://example.com/u", raw, "text/html")])
    docs, errors, _ = scan(p)
    assert not errors and "统一码" in docs[0]["html"]


def test_urls_read_from_headers_cover_every_document(tmp_path):
    """``read_urls`` (WARC/WET record headers only, payloads unread) yields every URL that a
    document read in full has, on every real WARC and WET file of the shared data (broken, clipped,
    chunked, ARC-converted ones included), and skips null URLs of Parquet."""
    files = sorted(p for p in shared_path("warc").rglob("*") if p.is_file() and (".warc" in p.name or ".wet" in p.name))
    assert len(files) >= 20
    for path in files:
        cfg = InputConfig(format="wet" if ".wet" in path.name else "warc", paths=[str(path)])
        docs = {it["url"] for it in read_file(str(path), cfg, "s") if isinstance(it, dict) and it.get("url")}
        assert docs <= set(read_urls(str(path), cfg, "s")), path.name
    p = tmp_path / "x.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "c"], "text": ["t", None, "u"],
                             "url": ["http://a.example/x", None, "https://b.example/"]}), p)
    assert list(read_urls(str(p), InputConfig(format="parquet", paths=[str(p)]), "s")) == \
        ["http://a.example/x", "https://b.example/"]
