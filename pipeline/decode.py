"""Turn HTTP payload bytes into text: declared charset, then the HTML meta tag, then a guess."""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_META_CHARSET = re.compile(
    rb"""(?:<meta[^>]+charset|<\?xml[^>]+encoding)\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
# Browsers treat these labels as their supersets (WHATWG encoding standard); so do we.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "iso-8859-1": "cp1252", "latin1": "cp1252",
              "ascii": "cp1252", "us-ascii": "cp1252", "ks_c_5601-1987": "cp949", "euc-kr": "cp949",
              "shift_jis": "cp932", "sjis": "cp932", "big5": "big5hkscs"}


class UndecodableError(ValueError):
    pass


def _norm(label: str) -> str | None:
    label = label.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


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


def decode_payload(payload: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, charset). Raises UndecodableError when nothing decodes it as text."""
    if payload.startswith(codecs.BOM_UTF8):
        return payload[3:].decode("utf-8", "replace"), "utf-8"
    tried = []
    for cs in [*declared_charsets(payload, content_type), "utf-8"]:
        if cs in tried:
            continue
        tried.append(cs)
        try:
            return payload.decode(cs), cs
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(payload[:200_000]).best()
    if best is not None and best.encoding is not None:
        return payload.decode(best.encoding, "replace"), best.encoding
    # Real pages often hold a few bytes invalid in their declared charset; browsers replace them.
    for cs in tried:
        text = payload.decode(cs, "replace")
        if text.count("\ufffd") <= len(text) // 100:
            return text, cs
    raise UndecodableError(f"no charset decodes the payload (tried {', '.join(tried)})")


def looks_binary(payload: bytes) -> bool:
    """NUL bytes do not occur in text encodings we accept (UTF-16 pages are rare and declared)."""
    head = payload[:8192]
    return head.count(b"\x00") > max(2, len(head) // 100)
