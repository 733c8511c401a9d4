"""A cheap, broad redactor for text shown to people: stats samples, the HTML report, `sample`.

It is not the ``pii`` step (which is precise and runs presidio): it errs toward hiding, so that a
report passed around never shows an e-mail address, a phone or card number, an IP address, an
IBAN, an ID number, a credential in a URL or a secret key. Redacted spans become ``<EMAIL>``,
``<NUMBER>``, ``<IP>``, ``<IBAN>``, ``<SECRET>``.
"""

from __future__ import annotations

import re

import pyarrow as pa

_RULES = [
    ("<SECRET>", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
                            r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{20,}|\bxox[abprs]-[A-Za-z0-9-]{10,}"
                            r"|\bsk-[A-Za-z0-9_-]{20,}|\bAIza[0-9A-Za-z_\-]{30,}"
                            r"|(?i:(?<=api_key=)|(?<=apikey=)|(?<=password=)|(?<=passwd=)|(?<=token=))[^\s&\"']+")),
    ("<CREDENTIALS>", re.compile(r"(?<=://)[^\s/:@]+:[^\s/@]+(?=@)")),
    ("<EMAIL>", re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")),
    ("<IBAN>", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b")),
    ("<IP>", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b")),
    # Any run of 7+ digits with the separators phone, card and ID numbers use.
    ("<NUMBER>", re.compile(r"(?<![\w])\+?(?:\(\d{1,5}\)[\s.-]?)?\d(?:[\d\s().\-/]{5,}\d)[\dXx]?(?![\w])")),
]


def redact(text: str) -> str:
    """``text`` with every span that may be personal data replaced by its kind."""
    for label, rx in _RULES:
        text = rx.sub(_long_number if label == "<NUMBER>" else label, text)
    return text


def _long_number(m: re.Match) -> str:
    return "<NUMBER>" if sum(c.isdigit() for c in m.group()) >= 7 else m.group()


def redact_table(table: pa.Table, columns: tuple[str, ...] = ("text", "html", "url")) -> pa.Table:
    """``table`` with ``redact`` applied to its text columns that exist."""
    for col in columns:
        if col in table.column_names and pa.types.is_string(table.schema.field(col).type):
            values = [redact(v) if v else v for v in table[col].to_pylist()]
            table = table.set_column(table.column_names.index(col), col, pa.array(values, pa.string()))
    return table
