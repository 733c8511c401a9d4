"""Context checks that keep PII recognizers off numbers that are not personal data.

Pattern recognizers see a digit run; real web text is full of digit runs that only look like
phone numbers, IP addresses or card numbers: dates and times, DOIs and ISSNs in reference lists,
ids inside URLs and file names, forum comment ids, prices, counts with thousands separators,
software versions, and reserved or private IP ranges (not personal data: no person is behind
``127.0.0.1`` or ``10.0.0.0/16``). ``plausible`` says whether a detected span survives them.
Each rule looks at the span and a few characters around it; none looks at a whole document.
"""

from __future__ import annotations

import ipaddress
import re

from cc_cleaner.pipeline.text import CHAR_SCRIPTS

# A span glued to these on its left is part of an identifier, a path or a URL.
_GLUE_LEFT = set("/#=_?&%@~;")
# Scripts written without spaces between words (pipeline.text's, where every character is a
# token, and here also Lao, Myanmar, Khmer, CJK radicals, bopomofo and the rarer Han planes) or
# with particles joined to the word before (Hangul): a number or an address in such text touches
# its letters (手机号是13812345678。, 010-1234-5678로), and that joins no word.
_MORE_UNSPACED = ((0x0E80, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x2E80, 0x2FDF), (0x3100, 0x312F),
                  (0x31A0, 0x31FF), (0xA960, 0xA97F), (0xAC00, 0xD7AF), (0x20000, 0x3134F))
UNSPACED = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in (*(r for rs in CHAR_SCRIPTS.values() for r in rs),
                                                          *_MORE_UNSPACED))
_UNSPACED = re.compile(f"[{UNSPACED}]")


def _word(c: str) -> bool:
    """Whether ``c`` continues a word: a letter or digit of a script that spaces its words."""
    return c.isalnum() and not _UNSPACED.match(c)


_DATE = re.compile(
    r"(?<!\d)(?:(?P<d1>\d{1,2})[./-](?P<m1>\d{1,2})[./-](?P<y1>(?:19|20)\d{2})"  # 29.11.2022, 28-04-2021
    r"|(?P<y2>(?:19|20)\d{2})[./-](?P<m2>\d{1,2})[./-](?P<d2>\d{1,2}))(?!\d)")  # 2022-11-29
_THOUSANDS = re.compile(r"^\d{1,3}(?:([.,'\u202f])\d{3})(?:\1\d{3})*$")  # 61.783.588, 1,234,567
_YEAR_RUN = re.compile(r"^(?:(?:19|20)\d{2}[\s,;/-]*){3,}$")  # 1945 1960 1980 2000
_REF_BEFORE = re.compile(
    r"(?i)(?:\b(?:doi|issn|e-?issn|isbn|pmid|pmcid|arxiv|pp?|pages?|vol|volume|no|nr|art|ref|id|#)\s*[.:#]?\s*"
    r"|\b10\.\d{4,9}/\S*|\b\d{1,4}\s*(?:\(\d{1,3}\))?\s*:\s*|\b(?:19|20)\d{2};\s*)$")  # 9: 2579, 2015;0961
# Chinese labels of identifiers (serial, version, order, waybill, staff, student, model, batch,
# document, patent and certificate numbers, codes): what follows is not a phone number.
_ZH_REF_BEFORE = re.compile(r"(?:编号|序号|版本号?|[订运]?单号|工号|学号|型号|批号|文号|专利号|证号|代码)\s*[:：]?\s*$")
# Labels of product, order and log numbers: a bare run of digits after one is that number.
_ID_BEFORE = re.compile(r"(?i)\b(?:upc|ean|gtin|sku|asin|mpn|timestamp|epoch|serial|invoice|tracking|order|model|part|"
                        r"item|product|ticket|case|transaction|txn|build|batch|lot)\b[\s.#:]*(?:no|nr|number|id|code)?"
                        r"[\s.#:]*$")
_PHONE_WORD = re.compile(r"(?i)\b(?:tel|phone|fax|mobile)|电话|手机|热线|致电|拨打|传真")
_PRICE = re.compile(r"[$€£¥￥₹₩₽]|\b(?:usd|eur|gbp|chf|cny|rmb|jpy|inr|fr|sfr|kr|rs)\.?\s*$", re.I)
_PRICE_AFTER = re.compile(r"^\s*(?:[$€£¥￥₹₩₽]|(?:usd|eur|euro|gbp|chf|cny|rmb|yuan|元|円|dollars?)\b|,-)", re.I)
_VERSION_BEFORE = re.compile(
    r"(?i)(?:\b(?:v|ver|version|versions?|build|release|rel|update|patch|firmware|fw|rev|revision|jdk|jre|java|sdk|"
    r"node|python|kernel|api|os|ios|android|chrome|firefox|version\s*:)\s*[\"'(]?\s*|\bv)$")
_COUNT_AFTER = re.compile(r"(?i)^\s*(?:views|likes|hits|downloads|followers|members|posts|comments|users|"
                          r"besucher|aufrufe|次|人|条|个)")
_TIME_AFTER = re.compile(r"^:\d{2}")


_NOT_URL = frozenset("|\"'<>()[]{},\\`")


def _token_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The URL-like token around [start, end): cut at white space, characters a URL lacks and the
    letters of unspaced scripts (the text around a URL in Chinese)."""
    a = start
    while a > 0 and not _ends_token(text[a - 1]):
        a -= 1
    b = end
    while b < len(text) and not _ends_token(text[b]):
        b += 1
    return a, b


def _ends_token(c: str) -> bool:
    return c.isspace() or c in _NOT_URL or bool(_UNSPACED.match(c))


def _in_url_or_path(text: str, start: int, end: int) -> bool:
    a, b = _token_bounds(text, start, end)
    token = text[a:b].lower()
    if "://" in token or token.startswith("www.") or "/" in text[a:start] or "\\" in text[a:start]:
        return True
    after = text[end:b]
    # A file name or an id glued to a word: 1292932890.jpg, comment-1682901, 17.0.4.1-librca, 1234abc
    return bool(re.match(r"^(?:\.[A-Za-z]{2,5}\b|[-_+](?![A-Z][a-z])[A-Za-z]|[A-WYZa-wyz]|[Xx](?!\d))", after))


def _glued(text: str, start: int, end: int) -> bool:
    """The span continues a word or number on either side (``fnins.2022.852506``, ``x1600-0447``)."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if after in "xX" and text[end + 1:end + 2].isdigit():
        after = " "  # an extension: 555-0100x42
    if _word(before) or before in _GLUE_LEFT or _word(after):
        return True
    if before in ".-" and start >= 2 and _word(text[start - 2]):
        return True  # j.1600-0447, comment-1682901
    return after in ".-" and end + 1 < len(text) and text[end + 1].isdigit()


def _is_date_or_time(span: str, text: str, end: int) -> bool:
    for m in _DATE.finditer(span):
        d, mo = (m.group("d1"), m.group("m1")) if m.group("d1") else (m.group("d2"), m.group("m2"))
        if 1 <= int(d) <= 31 and 1 <= int(mo) <= 12 or 1 <= int(mo) <= 31 and 1 <= int(d) <= 12:
            return True
    return bool(_TIME_AFTER.match(text[end:end + 3]))


def _digits(span: str) -> int:
    return sum(c.isdigit() for c in span)


def plausible_phone(text: str, start: int, end: int) -> bool:
    span = text[start:end]
    if _digits(span) < 7 or _glued(text, start, end) or _in_url_or_path(text, start, end):
        return False
    if _is_date_or_time(span, text, end) or _THOUSANDS.match(span.strip("()[] ")) or _YEAR_RUN.match(span):
        return False
    before = text[max(0, start - 24):start]
    after = text[end:end + 12]
    # A reference, an id label or (for a bare run of digits) a product, order or log label before
    # it, and no phone word: UPC 036000291452, Timestamp 1617283945, Order number 4155552671.
    labelled = (_REF_BEFORE.search(before) or _ZH_REF_BEFORE.search(before)
                or span.isdigit() and _ID_BEFORE.search(before))
    if labelled and not _PHONE_WORD.search(before):
        return False
    if re.search(r"(\d)\1{7}", span):
        return False  # eight equal digits in a row: a placeholder or a laugh (2333333333), not a line
    if re.match(r"^\s*[-–]\s*\d", after):  # a range: pp. 1234-1245, 2001-2010
        return False
    if _PRICE.search(before[-6:]) or _PRICE_AFTER.match(after) or _COUNT_AFTER.match(after):
        return False
    groups = re.findall(r"\d+", re.sub(r"^\+\d+|\(\d+\)", "", span))  # without +46 and (0)
    if sum(len(g) == 1 for g in groups) >= 2:
        return False  # a row of a table of numbers: 5033 4 6 15 26
    if re.search("[~\u223c\u301c\uff5e]", span):
        return False  # a range: 17.622～17.835, 10~20 (phonenumbers reads a tilde as punctuation)
    whole = re.fullmatch(r"\s*(\d+)\s+[–—]\s+(\d+)\s*", span)  # (a whole span: +49 179 – 757 84 18 is a phone)
    for a, b in re.findall(r"(\d+)[–—](\d+)", span) + ([whole.groups()] if whole else []):
        if len(a) == len(b) and int(a) < int(b):
            return False  # a range: 2579–2605, 200–250, 1800 – 2000
    return not re.fullmatch(r"\d{4}-\d{3}[\dXx]", span.strip())  # an ISSN, with or without its label


def plausible_ip(text: str, start: int, end: int) -> bool:
    span = text[start:end]
    try:
        addr = ipaddress.ip_address(span.strip("[]"))
    except ValueError:
        return False
    if not addr.is_global or addr.is_multicast:
        return False  # private, loopback, link-local, reserved, documentation, unspecified
    if _glued(text, start, end) or _in_url_or_path(text, start, end):
        return False  # build 17.0.4.1+1, /candidates/java/17.0.4.1-librca
    if text[end:end + 1] == "/" and text[end + 1:end + 2].isdigit():
        return False  # a CIDR block names a network, not a host
    return not _VERSION_BEFORE.search(text[max(0, start - 24):start])


def plausible_card(text: str, start: int, end: int) -> bool:
    span = text[start:end]
    return not (_YEAR_RUN.match(span) or _glued(text, start, end) or _in_url_or_path(text, start, end))


def plausible_ssn(text: str, start: int, end: int) -> bool:
    # +81 158-23-2012 is a phone number; 2012-23-158 style ids glued to words are not SSNs.
    if re.search(r"\+\d{1,3}[\s.-]*\(?\d*\)?[\s.-]*$", text[max(0, start - 8):start]):
        return False
    return not (_glued(text, start, end) or _in_url_or_path(text, start, end))


CHECKS = {"PHONE_NUMBER": plausible_phone, "IP_ADDRESS": plausible_ip, "CREDIT_CARD": plausible_card,
          "US_SSN": plausible_ssn}


def plausible(entity: str, text: str, start: int, end: int) -> bool:
    """False when the span at [start, end) is a known look-alike of ``entity``, not personal data."""
    check = CHECKS.get(entity)
    return check is None or check(text, start, end)
