"""Turn HTTP payload bytes into text the way browsers do (WHATWG encoding standard).

Order: a byte-order mark (UTF-8, UTF-16, UTF-32); the charset of the HTTP header, then of
``<meta>``/the XML declaration, when the bytes decode in it; UTF-8 when they decode as UTF-8.
A page that declares nothing usable is guessed among the encodings whose decoding of its bytes
is clean, starting from the browsers' fallback for the URL's top-level domain (GBK for .cn,
Shift_JIS for .jp, windows-1251 for .ru, ...; windows-1252 elsewhere), and scored on what the
decoded text looks like: letters rather than symbols, words of natural length (a CJK page read
as a one-byte encoding turns into long runs of accented letters or Cyrillic without spaces),
CJK characters in runs rather than alone between Latin letters, no case flips inside words.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from urllib.parse import urlsplit

_META_CHARSET = re.compile(
    rb"""(?:<meta[^>]+charset|<\?xml[^>]+encoding)\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
# Browsers treat these labels as their supersets (WHATWG encoding standard); so do we.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "iso-8859-1": "cp1252", "latin1": "cp1252",
              "ascii": "cp1252", "us-ascii": "cp1252", "ks_c_5601-1987": "cp949", "euc-kr": "cp949",
              "shift_jis": "cp932", "sjis": "cp932", "big5": "big5hkscs", "tis-620": "cp874",
              "iso-8859-11": "cp874", "iso-8859-9": "cp1254"}
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))

# The fallback browsers use for a page that declares nothing, by top-level domain.
_TLD = {**dict.fromkeys(["cn"], "gb18030"), **dict.fromkeys(["tw", "hk", "mo"], "big5hkscs"),
        "jp": "cp932", "kr": "cp949", "th": "cp874", "vn": "cp1258",
        **dict.fromkeys(["ru", "ua", "by", "bg", "kz", "mk", "rs", "su"], "cp1251"),
        **dict.fromkeys(["pl", "cz", "sk", "hu", "hr", "si", "ro", "ba"], "cp1250"),
        "gr": "cp1253", "tr": "cp1254", "il": "cp1255",
        **dict.fromkeys(["sa", "eg", "ae", "iq", "ir", "jo", "sy", "ma", "dz", "tn", "ly", "pk"], "cp1256"),
        **dict.fromkeys(["lt", "lv", "ee"], "cp1257")}
_CANDIDATES = ("cp1252", "gb18030", "big5hkscs", "cp932", "euc_jp", "cp949", "cp1251", "koi8_r", "cp1250",
               "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp874", "cp1258")
_CJK = {"gb18030", "big5hkscs", "cp932", "euc_jp", "cp949"}
_TAG = re.compile(r"<[^>]*>|&\w+;")
_SAMPLE = 16_384  # bytes scored per candidate


class UndecodableError(ValueError):
    pass


def _norm(label: str) -> str | None:
    label = label.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


_CJK_NORM = frozenset(codecs.lookup(c).name for c in _CJK)
_JAPANESE = frozenset(codecs.lookup(c).name for c in ("cp932", "euc_jp"))


def declared_charsets(payload: bytes, content_type: str | None) -> list[str]:
    out = []
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        if m and (cs := _norm(m.group(1))):
            out.append(cs)
    m = _META_CHARSET.search(payload[:4096])
    if m and (cs := _norm(m.group(1).decode("ascii", "ignore"))):
        out.append(cs)
    return out


def bom_encoding(payload: bytes) -> tuple[str, int] | None:
    """(encoding, length of its byte-order mark) when the bytes start with one."""
    return next(((enc, len(bom)) for bom, enc in _BOMS if payload.startswith(bom)), None)


def tld_encoding(url: str | None) -> str:
    """The browsers' fallback encoding for a page of this URL that declares none."""
    try:
        host = urlsplit(url or "").hostname or ""
    except ValueError:
        host = ""
    return _TLD.get(host.rsplit(".", 1)[-1], "cp1252")


def strict_charsets(payload: bytes, content_type: str | None) -> list[str]:
    """The charsets ``decode_payload`` tries first, strictly and in this order (after a
    byte-order mark): the declared ones, then UTF-8."""
    return list(dict.fromkeys([*declared_charsets(payload, content_type), "utf-8"]))


def utf8_payload(payload: bytes, content_type: str | None = None) -> bytes | None:
    """``payload`` itself where ``decode_payload`` would return its strict UTF-8 decoding (no
    byte-order mark, UTF-8 the first charset tried, valid UTF-8), else None. Such a page goes to
    Arrow's UTF-8 column as it is, never held as a ``str`` (a worker's parts of 2,000 real pages
    peaked at 1,017 MB instead of 1,297; the time saved is within noise)."""
    if bom_encoding(payload) is not None or strict_charsets(payload, content_type)[0] != "utf-8":
        return None
    return payload if is_utf8(payload) else None


def is_utf8(data: bytes) -> bool:
    """Whether ``data`` decodes as strict UTF-8 (Arrow's validator: the same rules as Python's
    decoder, no surrogates, overlong forms or code points past U+10FFFF)."""
    if data.isascii():
        return True
    import pyarrow as pa

    try:
        pa.array([data], pa.string())
    except pa.ArrowInvalid:
        return False
    return True


def utf8_chars(data: bytes) -> int:
    """The characters of valid UTF-8 ``data``: its bytes that do not continue a character."""
    return len(data) - len(data.translate(None, _LEADING))


_LEADING = bytes(range(0x80)) + bytes(range(0xC0, 0x100))  # every byte but a continuation byte


def decode_payload(payload: bytes, content_type: str | None = None, url: str | None = None) -> tuple[str, str]:
    """Return (text, charset). Raises UndecodableError when nothing decodes it as text."""
    bom = bom_encoding(payload)
    if bom:
        return payload[bom[1]:].decode(bom[0], "replace"), bom[0]
    tried = strict_charsets(payload, content_type)
    for cs in tried:
        try:
            return payload.decode(cs), cs
        except UnicodeDecodeError:
            continue
    # Real pages often hold a few bytes invalid in their declared charset; browsers replace them.
    for cs in tried[:-1]:
        text = payload.decode(cs, "replace")
        if text.count("\ufffd") <= len(text) // 1000:
            return text, cs
    hint = _norm(tld_encoding(url)) or "cp1252"
    best = guess_encoding(payload, hint)
    if best is not None:
        return payload.decode(best, "replace"), best
    for cs in [hint, *tried]:
        text = payload.decode(cs, "replace")
        if text.count("\ufffd") <= len(text) // 100:
            return text, cs
    raise UndecodableError(f"no charset decodes the payload (tried {', '.join(tried)}, then detection)")


def guess_encoding(payload: bytes, hint: str = "cp1252") -> str | None:
    """The candidate whose clean decoding of the bytes reads most like text; ties go to the hint,
    then to the order of ``_CANDIDATES`` (windows-1252 first, as browsers default to)."""
    m = _FIRST_HIGH.search(payload)
    start = max(0, m.start() - 256) if m else 0  # where the text is; the bytes before it are ASCII
    sample = _cut(payload[start:start + _SAMPLE])
    order = [hint, *(c for c in _CANDIDATES if _norm(c) != hint)]
    scored: list[tuple[float, str, str]] = []
    for cs in order:
        text = sample.decode(cs, "replace")
        bad = text.count("\ufffd")
        if bad > 2 + len(sample) // 2000:  # the bytes do not fit this encoding (a stray few may)
            continue
        name = _norm(cs) or cs
        scored.append((text_score(text, name in _CJK_NORM, name in _JAPANESE) - 0.01 * bad, name, text))
    if not scored:
        return None
    top = max(s for s, _, _ in scored)
    if top <= 0:  # no reading looks like text
        return None
    tied = [(cs, text) for s, cs, text in scored if s >= top - 0.05]
    if len(tied) == 1 or hint != "cp1252":  # a domain's own fallback wins its ties
        return tied[0][0]
    # Letters of several encodings read equally well (Czech as windows-1252, Hebrew as
    # windows-1251): the reading the language model is surest of wins; ties keep the order.
    conf = [_lid_confidence(text) for _, text in tied]
    best = max(range(len(tied)), key=lambda i: conf[i])
    return tied[best][0] if conf[best] > conf[0] + 0.05 else tied[0][0]


def _lid_confidence(text: str) -> float:
    from cc_cleaner.pipeline.fasttext import lid_model_path, load_model, predict

    words = " ".join(_TAG.sub(" ", text).split())[:3000]
    if not words:
        return 0.0
    _, probs = predict(load_model(lid_model_path()), [words])
    return float(probs[0][0]) if len(probs[0]) else 0.0


def _cut(sample: bytes) -> bytes:
    """Drop a multi-byte character cut at the sample's end (back to the last ASCII byte)."""
    if len(sample) < _SAMPLE:  # the payload's end: nothing cut
        return sample
    m = _LAST_ASCII.search(sample)
    return sample[: m.start() + 1] if m else sample


_LAST_ASCII = re.compile(rb"[\x00-\x7f][\x80-\xff]*\Z")


def _is_cjk(c: str) -> bool:
    o = ord(c)
    # (Half-width katakana, FF61-FF9F, are left out: what a Chinese page read as Shift_JIS turns into.)
    return 0x4E00 <= o <= 0x9FFF or 0x3040 <= o <= 0x30FF or 0xAC00 <= o <= 0xD7AF or 0x3000 <= o <= 0x303F \
        or 0xFF01 <= o <= 0xFF60 or 0xFFE0 <= o <= 0xFFE6


def text_score(text: str, cjk_encoding: bool, japanese: bool = False) -> float:
    """How much decoded text looks like text (0-1; 1 for text without non-ASCII characters)."""
    # Quotes, dashes and no-break spaces say nothing: every candidate has them.
    high = [c for c in text if ord(c) >= 0x80 and unicodedata.category(c) not in ("Pi", "Pf", "Pd", "Zs")]
    if not high:
        return 1.0
    if cjk_encoding:
        good = sum(_is_cjk(c) for c in high)
        # A CJK character alone between ASCII letters is a Latin page read as CJK.
        lone = len(re.findall(r"[A-Za-z][^\x00-\x7f][A-Za-z]", text))
        private = sum(0xE000 <= ord(c) <= 0xF8FF for c in high)  # user-defined areas: bytes that do not fit
        score = (good - 2 * lone - 2 * private) / len(high)
        if not japanese and sum(0x3040 <= ord(c) <= 0x30FF for c in high) > 0.05 * len(high):
            score -= 0.1  # kana: a Japanese page, whose kana the Chinese encodings happen to share
        return max(0.0, score)
    letters = sum(c.isalpha() and not _is_cjk(c) for c in high)
    symbols = sum(unicodedata.category(c)[0] in "SCN" or unicodedata.category(c) == "Po" for c in high)
    runs = _HIGH_RUN.findall(text)
    # Words that long are CJK read byte by byte (Thai, written without spaces, has them naturally).
    long_runs = sum(len(r) for r in runs if len(r) > 12 and not _THAI_RUN.fullmatch(r)) / len(high)
    # Lower case then upper case inside a word: a Cyrillic page read in the wrong Cyrillic encoding.
    flips = sum(a.islower() and b.isupper() for r in runs for a, b in zip(r, r[1:], strict=False))
    # A word of ASCII letters and letters of another script: a Latin page read as Cyrillic or Greek.
    mixed = sum(1 for w in _MIXED.findall(text) if any(c.isalpha() and ord(c) > 0x24F for c in w))
    # Running text is mostly lower case; KOI8-R read as windows-1251 (and back) swaps the cases.
    upper = sum(c.isupper() for c in high) / max(1, letters)
    return max(0.0, (letters - symbols - 2 * flips - 2 * mixed) / len(high) - long_runs - max(0.0, upper - 0.5))


_HIGH_RUN = re.compile(r"[^\x00-\x7f]{2,}")
_THAI_RUN = re.compile(r"[\u0e00-\u0e7f]+")
_FIRST_HIGH = re.compile(rb"[\x80-\xff]")
_MIXED = re.compile(r"\b(?=\w*[A-Za-z])(?=\w*[^\x00-\x7f])\w+")  # words with ASCII and other letters


def looks_binary(payload: bytes) -> bool:
    """NUL bytes do not occur in text, except in UTF-16/32, which a byte-order mark announces."""
    bom = bom_encoding(payload)
    if bom and bom[0] != "utf-8":
        return False
    head = payload[:8192]
    return head.count(b"\x00") > max(2, len(head) // 100)
