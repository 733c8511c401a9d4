"""PII: precision and recall per entity type on labelled data; Chinese formats; actions; prefilter."""

from __future__ import annotations

import contextlib
import gzip
import json
import re
from collections import Counter

import pyarrow as pa
import pytest

from cc_cleaner.filters import pii
from cc_cleaner.filters.pii import (
    ENTITIES,
    FOLDS,
    GATES,
    OURS,
    PHONE_REGIONS,
    PHONE_WINDOW,
    PREFILTER,
    Pii,
    candidates,
    cn_id_valid,
    screen,
    too_short,
    windows,
)
from cc_cleaner.pipeline.step import StepContext, get_step

from conftest import SHARED, shared_path
from realtext import clean_pages

SUPPORTED = set(ENTITIES.values())


def pii_step(**cfg):
    return get_step("pii", cfg, StepContext(seed=5))


def run(texts: list[str], **cfg):
    t = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts, "url": [None] * len(texts),
                  "source": ["t"] * len(texts)})
    return pii_step(**cfg).process(t)


def score(samples: list[dict]) -> dict[str, tuple[float, float, int]]:
    """Span-level precision/recall per entity type (a hit overlaps a gold span of the same type)."""
    step = pii_step()
    tp, fp, fn = Counter(), Counter(), Counter()
    for s in samples:
        gold = [(g["entity_type"], g["start_position"], g["end_position"]) for g in s["spans"]
                if g["entity_type"] in SUPPORTED]
        found = [(r.entity_type, r.start, r.end) for r in step.find(s["full_text"])]
        found = _resolve(found)
        for e, a, b in found:
            if any(e == ge and a < gb and ga < b for ge, ga, gb in gold):
                tp[e] += 1
            else:
                fp[e] += 1
        for ge, ga, gb in gold:
            if not any(e == ge and a < gb and ga < b for e, a, b in found):
                fn[ge] += 1
    return {e: (tp[e] / max(1, tp[e] + fp[e]), tp[e] / max(1, tp[e] + fn[e]), tp[e] + fn[e])
            for e in SUPPORTED if tp[e] + fp[e] + fn[e]}


def _resolve(found: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Like the anonymizer: of overlapping hits keep the longer one (as our step's output does)."""
    out: list[tuple[str, int, int]] = []
    for e, a, b in sorted(found, key=lambda x: (x[1], -(x[2] - x[1]))):
        if out and a < out[-1][2]:
            continue
        out.append((e, a, b))
    return out


@pytest.mark.slow
def test_presidio_research_precision_recall(capsys):
    samples = []
    for name in ("synth_dataset_v2.json.gz", "generated_small.json.gz"):
        samples += json.loads(gzip.decompress(shared_path("pii", "presidio_research", name).read_bytes()))
    res = score(samples)
    with capsys.disabled():
        print("\nPII precision/recall (support):", ", ".join(
            f"{OURS[e]} {p:.2f}/{r:.2f} ({n})" for e, (p, r, n) in sorted(res.items())))
    for e in ("EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "US_SSN"):
        p, r, _ = res[e]
        assert p >= 0.95 and r >= 0.9, (e, p, r)
    # presidio's card pattern covers the major brands; Faker's 12-19 digit Maestro/JCB-15 numbers
    # (about a fifth of this set) are outside it.
    p, r, _ = res["CREDIT_CARD"]
    assert p >= 0.95 and r >= 0.75, (p, r)
    # Synthetic phone numbers include invalid ones ("(37) 788-063") that phonenumbers rejects.
    p, r, _ = res["PHONE_NUMBER"]
    assert p >= 0.75 and r >= 0.6, (p, r)


def test_dolma_email_spans():
    root = shared_path("pii", "dolma_cc_email_spans")
    docs = {d["id"]: d["text"] for d in map(json.loads, gzip.decompress((root / "documents-000.json.gz").read_bytes())
                                             .decode().splitlines())}
    attrs = [json.loads(line) for line in gzip.decompress((root / "attributes-pii-000.json.gz").read_bytes())
             .decode().splitlines()]
    step = pii_step(entities=["EMAIL"])
    gold_total = found_total = 0
    for a in attrs:
        spans = [s for s in a["attributes"].get("pii", {}).get("email", []) if s[2] >= 0.5]
        text = docs[a["id"]]
        hits = [(r.start, r.end) for r in step.find(text)]
        gold_total += len(spans)
        found_total += sum(any(a < end and b > start for a, b in hits) for start, end, _ in spans)
        # Every e-mail we replace holds an @.
        assert all("@" in text[s:e] for s, e in hits)
    assert gold_total >= 3 and found_total == gold_total


def test_chinese_formats_and_actions():
    text = "联系电话：13812345678，座机 010-62751234，身份证 11010519491231002X，邮箱 li.ming@example.com。"
    res = run([text])
    out = res.kept["text"].to_pylist()[0]
    assert "13812345678" not in out and "11010519491231002X" not in out and "<EMAIL>" in out
    assert res.counters["entity:CN_ID"] == 1 and res.counters["entity:PHONE"] == 2
    assert cn_id_valid("11010519491231002X") and not cn_id_valid("110105194912310021")
    assert "110105194912310021" in run(["号码 110105194912310021 无效"]).kept["text"].to_pylist()[0]
    masked = run(["write to a.b@example.com"], action="mask").kept["text"].to_pylist()[0]
    assert masked == "write to " + "*" * len("a.b@example.com")
    hashed = run(["write to a.b@example.com"], action="hash").kept["text"].to_pylist()[0]
    assert hashed.startswith("write to <EMAIL:") and hashed == run(["write to a.b@example.com"], action="hash").kept[
        "text"].to_pylist()[0]


def test_entities_written_into_unspaced_text():
    """Chinese, Japanese, Korean and Thai text put no space around a number or an address; the
    characters around it are no word boundary for the patterns and no glue for the checks."""
    texts = ["我的手机号是13812345678。", "请拨打+86 138 1234 5678联系我们", "我的邮箱是zhangsan@example.com谢谢",
             "IP地址为8.8.8.8。", "卡号4111111111111111已失效", "電話番号は03-1234-5678です。",
             "010-1234-5678로 연락주세요", "โทร0812345678ค่ะ", "Email 张三@例子.中国 please",
             # every separator phonenumbers reads: full-width digits and dashes, ー, the minus sign,
             # full-width brackets, Unicode hyphens (a text whose only digit runs are split by them too)
             "電話：０３－１２３４－５６７８", "携帯０９０ー１２３４ー５６７８", "TEL 03−1234−5678", "電話 ０３（１２３４）５６７８",
             "Call 415‐555‐2671 today", "客服电话400－919－8888网址"]
    res = run(texts)
    assert res.kept["text"].to_pylist() == [
        "我的手机号是<PHONE>。", "请拨打<PHONE>联系我们", "我的邮箱是<EMAIL>谢谢", "IP地址为<IP>。", "卡号<CREDIT_CARD>已失效",
        "電話番号は<PHONE>です。", "<PHONE>로 연락주세요", "โทร<PHONE>ค่ะ", "Email <EMAIL> please",
        "電話：<PHONE>", "携帯<PHONE>", "TEL <PHONE>", "電話 <PHONE>", "Call <PHONE> today", "客服电话<PHONE>网址"]
    # Look-alikes stay: an id in a URL, labelled ids, ranges, a year range after a count, a laugh.
    alike = ["网址http://example.com/13812345678", "V4.4.22版本号80240022", "订单号：13812345678",
             "铅同位素比值为17.622～17.835", "年龄18.00～78.00岁", "利用辽宁省50站1961-2012年夏季逐日降水资料",
             "哈哈2333333333前方高能", "Anbauhöhe 1800 – 2000 Meter"]
    assert run(alike).kept["text"].to_pylist() == alike
    # Real app descriptions (FewCLUE iflytek): every hotline after its label and every e-mail
    # written into the Chinese text is replaced, and no Chinese character goes with them.
    rows = gzip.decompress(shared_path("multilingual_text", "chinese_fewclue", "iflytek_test_public.jsonl.gz")
                           .read_bytes()).decode().splitlines()
    # (mobile numbers, 400 hotlines and landlines with their area code: the forms with one reading)
    phone = re.compile(r"(?:客服电话|服务热线|客服热线|联系电话)[:：]?(1[3-9]\d{9}|400\d{7}|0\d{9,11})(?!\d)")
    # (an address followed by Latin letters, 邮箱a@b.cnQQ群, has no end a pattern could know)
    email = re.compile(r"(?<=[\u4e00-\u9fff])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[a-z]{2,}"
                       r"(?![A-Za-z0-9.-])")
    real = [t for t in (json.loads(r)["sentence"] for r in rows if r.startswith("{") and r.endswith("}"))
            if phone.search(t) or email.search(t)]
    assert len(real) >= 100
    han = re.compile(r"[^\u4e00-\u9fff]")
    import tldextract  # (offline once the step is set up)

    for text, out in zip(real, run(real).kept["text"].to_pylist(), strict=True):
        # (an address whose last label is no known suffix, 163.comp where a "p" tag was, is no address)
        addresses = [e for e in email.findall(text) if tldextract.extract(e.split("@")[1]).suffix]
        for found in phone.findall(text) + addresses:
            assert found not in out, (found, out)
        if not re.search(r"[\u4e00-\u9fff]@|@[\u4e00-\u9fff]", text):
            assert han.sub("", out) == han.sub("", text), out


def test_addresses_written_with_at_and_dot_words():
    """Addresses written so that scrapers miss them (real pages have them: d.toelle[at]...,
    redaktion (at) ...): found when the domain ends in a public suffix; an "at" between words is
    no address."""
    texts = ["Contact: jane.doe [at] example [dot] com for details.", "Email: jsmith(at)uni-bonn.de",
             "j.smith {at} cs {dot} stanford {dot} edu", "Mail: info <at> firma.de.", "JANE [AT] EXAMPLE [DOT] ORG",
             "我的邮箱 zhang(at)qq.com 谢谢"]
    assert run(texts).kept["text"].to_pylist() == [
        "Contact: <EMAIL> for details.", "Email: <EMAIL>", "<EMAIL>", "Mail: <EMAIL>.", "<EMAIL>", "我的邮箱 <EMAIL> 谢谢"]
    alike = ["Look [at] this. Then we go.", "Meet me (at) noon.", "priced [at] 5.99 each", "see the table (at) page.html"]
    assert run(alike).kept["text"].to_pylist() == alike


def test_secrets_and_credentials():
    text = ("export AWS_KEY=AKIAIOSFODNN7EXAMPLE\ntoken ghp_" + "a" * 36 + "\n"
            "db: postgres://admin:s3cret@db.internal.example.com/prod\napi_key = 'abcdef0123456789abcd'")
    out = run([text]).kept["text"].to_pylist()[0]
    assert "AKIAIOSFODNN7EXAMPLE" not in out and "ghp_" not in out and "s3cret" not in out
    assert "abcdef0123456789abcd" not in out


def test_prefilter_skips_only_documents_without_candidates():
    root = shared_path("html_extraction", "article_extraction_benchmark")
    texts = [v["articleBody"] for v in json.loads((root / "ground-truth.json").read_text()).values()]
    with_pf = run(texts, prefilter=True)
    assert with_pf.counters["docs_analyzed"] < len(texts)
    # What the analyzer would find in the documents the prefilter skips: only the phone
    # recognizer's false hits on short number runs ("350–375", "1694"), never a real entity.
    step = pii_step(prefilter=False)
    skipped = [t for t in texts if not candidates(t)]
    found = [(r.entity_type, t[r.start:r.end]) for t in skipped for r in step.find(t)]
    assert all(e == "PHONE_NUMBER" and sum(c.isdigit() for c in v) < 10 for e, v in found), found
    assert sum(1 for t in texts if not candidates(t)) == len(texts) - with_pf.counters["docs_analyzed"]


def test_fast_candidates_are_the_prefilter_matches():
    """``candidates`` (one pattern per kind) finds a text's candidates iff PREFILTER does, and
    covers every PREFILTER match, on real pages and on the labelled PII set; ``screen`` (RE2, a
    column at a time) matches wherever they find something of its kind, and the candidates found
    with its answers are the ones found without them."""


    root = shared_path("html_extraction", "article_extraction_benchmark")
    texts = [v["articleBody"] for v in json.loads((root / "ground-truth.json").read_text()).values()]
    texts += [t for _, t in clean_pages(SHARED)]
    texts += [s["full_text"] for s in json.loads(gzip.decompress(
        shared_path("pii", "presidio_research", "synth_dataset_v2.json.gz").read_bytes()))]
    texts += ["fe80::1 and 2001:db8::ff00:42:8329", "zz:ab:cd: x", "IBAN DE89370400440532013000", "Api-Key: x",
              "ſecret", "paſſword", "Apı_key", "APİKEY", "TO\u212aEN", "no candidates here", "ab:cd",
              "\u0661\u0662\u0663\u0664\u0665\u0666\u0667", "１２３\u3000４５６７", "12\x1c34\x8556 78",
              "12\u2011345\u20136789", "xoxa", "ghr_", "DE٨٩ABCD", "é12\u00a0345 678", "1 2 3 4 5 6 7",
              "電話：０３－１２３４－５６７８", "03（1234）5678", "090ー1234ー5678", "03−1234−5678", "415‐555‐2671",
              "jane [at] example [dot] com", "x(AT)y.de", "a <at> b", "{ At }"]
    assert sum(bool(PREFILTER.search(t)) for t in texts) > 1000
    flags = screen(pa.array(texts, pa.string()))
    for i, t in enumerate(texts):
        spans = candidates(t)
        assert bool(spans) == bool(PREFILTER.search(t)), t
        for m in PREFILTER.finditer(t):
            assert any(a <= m.start() < b or m.start() <= a < m.end() for a, b in spans), (t, m)
        f = {k: v[i] for k, v in flags.items()}
        assert f["any"] or not spans, t
        assert f["keys"] == any(k in t for k in pii._KEY_GATE), t
        assert f["keywords"] == bool(pii._KEYWORD.search(t)), t
        assert f["iban"] or not pii._IBAN.search(t), t
        runs = [m.span() for m in pii._RUN.finditer(t)]
        assert candidates(t, runs, f["keys"], f["keywords"], f["iban"]) == spans, t
    assert sum(flags["any"]) < 0.9 * len(texts)  # the screen does pass over texts


def test_folds_are_what_ignorecase_takes():
    """FOLDS holds every non-ASCII character Python's re (?i) takes for an ASCII letter."""
    import re
    import sys

    for c in map(chr, range(128, sys.maxunicode + 1)):
        if re.match("(?i)[a-z]", c):
            assert {x for x in "abcdefghijklmnopqrstuvwxyz" if re.match("(?i)" + x, c)} == \
                {x for x, folds in FOLDS.items() if c in folds}, hex(ord(c))


def test_context_enhancer_changes_nothing():
    """Our enhancer returns presidio's hits as the stock one scores them: with no lemmas in the
    blank pipeline, no context word is ever found before a hit."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

    ours = pii_step().analyzer
    stock = AnalyzerEngine(nlp_engine=ours.nlp_engine, registry=ours.registry, supported_languages=["en"],
                           context_aware_enhancer=LemmaContextAwareEnhancer())
    texts = [s["full_text"] for s in json.loads(gzip.decompress(
        shared_path("pii", "presidio_research", "synth_dataset_v2.json.gz").read_bytes()))]
    texts += ["my phone number is 212-555-0123", "SSN: 078-05-1120", "social security 078 05 1120"]
    hits = 0
    for t in texts:
        got = [(r.entity_type, r.start, r.end, r.score) for r in ours.analyze(t, language="en", score_threshold=0.0)]
        assert got == [(r.entity_type, r.start, r.end, r.score)
                       for r in stock.analyze(t, language="en", score_threshold=0.0)], t
        hits += len(got)
    assert len(texts) > 1000 and hits > 200, (len(texts), hits)


def _planted_values() -> list[tuple[str, str]]:
    """(presidio entity, value) of labelled phone, IP, card and SSN spans of presidio-research."""
    samples = json.loads(gzip.decompress(shared_path("pii", "presidio_research", "synth_dataset_v2.json.gz")
                                         .read_bytes()))
    wanted = {"PHONE_NUMBER", "IP_ADDRESS", "CREDIT_CARD", "US_SSN"}
    return [(g["entity_type"], g["entity_value"]) for s in samples for g in s["spans"] if g["entity_type"] in wanted]


@pytest.mark.slow
def test_precision_on_real_page_traps(capsys):
    """Real page lines holding DOIs, ISSNs, dates, prices, ids in URLs, versions, private IPs...:
    none of those spans may be taken for PII, while labelled PII values planted in the same lines
    are still found. Precision per type = planted found / (planted found + traps flagged)."""
    from pii_traps import find_traps

    traps = find_traps(shared_path())
    cats = Counter(t[4] for t in traps)
    assert len(traps) >= 1000 and len(cats) >= 12, cats
    by_line: dict[str, list[tuple[int, int, str]]] = {}
    for _, line, a, b, cat in traps:
        by_line.setdefault(line, []).append((a, b, cat))
    lines = sorted(by_line)
    planted = _planted_values()

    def flagged(step) -> tuple[Counter, Counter, Counter]:
        tp, fp, fp_cat = Counter(), Counter(), Counter()
        for i, line in enumerate(lines):
            extra = planted[i % len(planted)] if i < 3 * len(planted) else None
            text = line + (f" | {extra[1]}" if extra else "")
            for r in step.find(text):
                hit = [c for a, b, c in by_line[line] if r.start < b and a < r.end]
                if hit:
                    fp[r.entity_type] += 1
                    fp_cat[hit[0]] += 1
                elif extra and r.entity_type == extra[0] and r.end > len(line):
                    tp[r.entity_type] += 1
        return tp, fp, fp_cat

    tp, fp, fp_cat = flagged(pii_step())
    with capsys.disabled():
        print(f"\nPII traps: {len(traps)} in {len(lines)} real lines, {dict(cats)}; flagged per category "
              f"{dict(fp_cat)}; precision " + ", ".join(
                  f"{OURS[e]} {tp[e] / max(1, tp[e] + fp[e]):.3f} ({tp[e]} planted found, {fp[e]} traps)"
                  for e in ("PHONE_NUMBER", "IP_ADDRESS", "CREDIT_CARD", "US_SSN")))
    for e in ("PHONE_NUMBER", "IP_ADDRESS", "CREDIT_CARD", "US_SSN"):
        assert tp[e] >= 10, (e, tp)
        assert tp[e] / (tp[e] + fp[e]) >= 0.95, (e, tp[e], fp[e], fp_cat)
    assert sum(fp.values()) <= 0.01 * len(traps), fp_cat
    # The traps are real: presidio's recognizers alone fall into hundreds of them.
    _, raw_fp, raw_cat = flagged(pii_step(context_checks=False))
    with capsys.disabled():
        print(f"without context checks: {sum(raw_fp.values())} traps flagged, {dict(raw_cat)}")
    assert sum(raw_fp.values()) >= 100, raw_fp


def test_context_rules_on_known_look_alikes():
    texts = [
        "Acta Psychiatr Scand. 2008;117(4):1600-0447. doi:10.1111/j.1600-0447.2007.01139.x",
        "ISSN 2105-3030 and ISSN: 1234-567X",
        "Termin: 21.02.2020, 19 Uhr; Preis vom 02.01.2023 10:49 Uhr",
        "openjdk version \"17.0.4.1\" 2022-08-12 LTS (build 17.0.4.1+1-LTS)",
        "listen on 0.0.0.0 and 127.0.0.1; subnet 10.0.1.0/24; gateway 192.168.0.2",
        "https://www.lowes.com/pd/block/1001156396 and 1292932890.jpg and #1682901",
        "Price: $1,234,567 or 61.783.588 Views",
        "UPC 036000291452, Model 6502345678, Order number 4155552671, Item #: 4155552671, Timestamp 1617283945",
    ]
    res = run(texts)
    assert res.kept["text"].to_pylist() == texts
    assert res.kept["pii_count"].to_pylist() == [0] * len(texts)
    real = run(["Call 541-227-6258 or +49 30 25 81 72 65; server at 8.8.4.4 logged 203.0.113.9 and 81.2.69.160.",
                "Order by phone: 4155552671; account 2125551234"])
    assert real.kept["text"].to_pylist() == ["Call <PHONE> or <PHONE>; server at <IP> logged 203.0.113.9 and <IP>.",
                                             "Order by phone: <PHONE>; account <PHONE>"]


@pytest.mark.slow
def test_phone_matcher_finds_what_phonenumbers_finds():
    """Our phone recognizer (phonenumbers' matcher with what does not depend on the region worked
    out once per text) gives presidio's stock recognizer's hits, span for span, on the windows the
    step analyses in real pages and the labelled PII set, and on the library's hard cases."""
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    shared_path("html_extraction")
    ours = next(r for r in pii_step().analyzer.registry.recognizers if type(r).__name__ == "Phones")
    stock = PhoneRecognizer(supported_regions=PHONE_REGIONS)
    texts = [t for _, t in clean_pages(SHARED)]
    texts += [s["full_text"] for s in json.loads(gzip.decompress(
        shared_path("pii", "presidio_research", "synth_dataset_v2.json.gz").read_bytes()))]
    windowed = [t[a:b] for t in texts
                for a, b in windows(t, [m.span() for m in pii._RUN.finditer(t)], PHONE_WINDOW, whole=False)]
    windowed += ["Call 650-253-0000/0001 or +41 79 123 45 67 / 68", "2012-01-02 08:00:01", "2012-01-02 08 00",
                 "x 1/12/2012 y", "pages 211-227 (2009)", "(650) 253-0000 ext. 123", "abc8005001234def",
                 "+1 650 253 0000; 1-650-253-0000; 011 44 20 7946 0958; 0044 20 7946 0958", "$650-253-0000",
                 "Tel. 020 7946 0958 und 030 12345678, 0049 30 12345678", "电话 010-12345678 手机 13800138000",
                 "(020) 7946 0958) 4", "12345678901234567890123", "+86 (0)10 1234 5678", "03-1234-5678 / 090-1234-5678"]
    hits = 0
    for t in windowed:
        got = [(r.entity_type, r.start, r.end, r.score) for r in ours.analyze(t, ["PHONE_NUMBER"])]
        want = [(r.entity_type, r.start, r.end, r.score) for r in stock.analyze(t, ["PHONE_NUMBER"])]
        assert sorted(got) == sorted(want), t
        hits += len(got)
    assert len(windowed) > 2000 and hits > 500, (len(windowed), hits)


def test_too_short_candidates_are_never_valid():
    """A candidate the phone matcher skips as too short for a region never parses to a valid
    number of it: every digit run of real pages, each of its pieces and prefixes, and forms that
    add or change digits (a +, an international prefix, letters, a phone context, other digits)."""
    import phonenumbers

    shared_path("html_extraction")
    strings = set()
    for _, t in clean_pages(SHARED):
        for m in pii._RUN.finditer(t):
            c = m.group()
            strings.add(c)
            strings.update(c[:i] for i in range(1, len(c)))
            strings.update(c.split())
    strings |= {"00 44 20 7946", "0044 1234", "011 44 1234", "011 1234", "+44 1234", "+1 555", "＋86 1234",
                "1-800-FLOWERS", "1234;phone-context=+44", "tel:1234", "０１２３ ４５６", "٠١٢٣٤٥٦",
                "183 1 2345", "12593 1234", "0000 1234", "00030 1234", "003768 01234", "1 23", "12"}
    regions = (*PHONE_REGIONS, "AR", "BR", "MX", "NU", "SH", "RU", "IT", "NZ")
    skipped = 0
    for c in sorted(strings):
        for r in regions:
            if too_short(c, r):
                skipped += 1
                with contextlib.suppress(phonenumbers.NumberParseException):
                    assert not phonenumbers.is_valid_number(phonenumbers.parse(c, r)), (c, r)
    assert len(strings) > 25_000 and skipped > 250_000, (len(strings), skipped)


GATE_CASES = ["ſecret = abcdefghijklmnop", "PassWord: abcdefghijklmnopq", "-----BEGIN RSA PRIVATE KEY-----",
              "asiaABCDEFGHIJKLMNOP", "ghp_" + "a" * 36, "xoxb-1234567890-abc", "sk-" + "A" * 40, "AIza" + "b" * 35,
              "４１１１ １１１１ １１１１ １１１１", "4111-1111-1111-1111", "::", "::ffff:10.1.2.3", "fe80::1%eth0",
              "2001:db8::ff00:42:8329", "1.2.3.4/24", "DE89 3704 0044 0532 0130 00", "123-45-6789", "078051120",
              "123 45 6789", "12345-6789", "11010519491231002X", "https://user:pa55@example.com/x", "a.b-c@d-e.fg"]


def test_pii_gates_hold_wherever_their_recognizer_matches():
    """Every match of every pattern of a gated recognizer contains a match of its gate (so a
    window the gate rejects holds no hit): on real pages, the labelled set and odd forms."""
    import regex

    texts = [t for _, t in clean_pages(SHARED, extracted=False)]
    texts += [s["full_text"] for s in json.loads(gzip.decompress(
        shared_path("pii", "presidio_research", "synth_dataset_v2.json.gz").read_bytes()))]
    texts += GATE_CASES
    step = pii_step()
    assert set(step.gates) == set(GATES)
    matched = Counter()
    for rec in step.analyzer.registry.recognizers:
        gate = step.gates.get(rec.supported_entities[0])
        for p in getattr(rec, "patterns", []) if gate else []:
            pattern = regex.compile(p.regex, flags=rec.global_regex_flags)
            for t in texts:
                for m in pattern.finditer(t):
                    assert gate.search(m.group()), (p.name, m.group())
                    matched[rec.supported_entities[0]] += 1
    assert all(matched[e] for e in GATES), matched


def test_pii_gates_change_no_hit():
    texts = [s["full_text"] for s in json.loads(gzip.decompress(
        shared_path("pii", "presidio_research", "synth_dataset_v2.json.gz").read_bytes()))][:600] + GATE_CASES
    for cfg in ({}, {"prefilter": False}):
        gated = pii_step(**cfg)
        plain = Pii(Pii.Config.model_validate(cfg), StepContext(seed=5))  # its own step: get_step shares one
        plain.setup()
        plain.gates = {}
        assert gated.gates and not plain.gates
        found = Counter()
        for t in texts:
            hits = [(r.entity_type, r.start, r.end, r.score) for r in gated.find(t)]
            assert hits == [(r.entity_type, r.start, r.end, r.score) for r in plain.find(t)], t
            found.update(h[0] for h in hits)
        assert set(GATES) <= set(found), found  # every gated entity is among the hits compared
