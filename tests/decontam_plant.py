"""Plant benchmark test items into real clean pages, in the forms leaks take on the web.

Forms: the question alone; the question with its options, numbered and labelled as a quiz page
prints them; a solution or code alone; reformatted copies (case, spacing, punctuation,
numbering, full-width characters); and Chinese items reposted in traditional characters (OpenCC's
phrase-level conversion, as a Taiwan or Hong Kong site would print them). Items are drawn with a seed from the raw benchmark files in
``../shared/data/benchmarks`` (never from the index the step uses)."""

from __future__ import annotations

import random
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from cc_cleaner.filters.benchmarks import load_benchmark
from cc_cleaner.pipeline.text import token_spans

FORMS = {  # benchmark -> forms that apply
    "gsm8k": ["question", "solution", "reformatted"],
    "humaneval": ["question", "solution", "reformatted"],
    "mbpp": ["question", "solution", "reformatted"],
    "mmlu": ["question", "question+options", "reformatted"],
    "cmmlu": ["question", "question+options", "reformatted", "traditional"],
    "ceval": ["question", "question+options", "reformatted", "traditional"],
}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_FULL = {c: chr(ord(c) + 0xFEE0) for c in map(chr, range(0x21, 0x7F))}


def _fields(bench: str, units: list[tuple[str, str]]) -> dict[str, str]:
    d = dict(units)
    if bench in ("mmlu", "cmmlu", "ceval"):
        q = d["question"]
        return {"question": q, "options": d["question+options"][len(q) + 1:].split("\n")}
    if bench == "humaneval":
        return {"question": d["prompt"], "solution": d["solution"]}
    return {"question": d["question"], "solution": d["solution"]}


def reformat(text: str, rng: random.Random, zh: bool) -> str:
    """Change what a copy-paste or a re-typing changes, never the words."""
    out = text
    if zh:
        out = "".join(_FULL.get(c, c) if rng.random() < 0.8 else c for c in out)  # full-width ASCII
        out = out.replace("，", ",").replace("。", ". ") if rng.random() < 0.5 else out
        out = re.sub(r"_{2,}", "（　）", out)
    else:
        out = out.upper() if rng.random() < 0.3 else (out.lower() if rng.random() < 0.5 else out)
        out = re.sub(r"[,;:]", lambda m: rng.choice(["", " ,", ";", " -"]), out)
        out = re.sub(r"\?", " ?", out)
    out = re.sub(r"[ \t]+", lambda m: rng.choice([" ", "  ", "\u00a0", " \n"]), out)
    return f"{rng.choice(['Q12.', '第3题', 'Question 7:', '(4)', '1)'])} {out}"


def render(bench: str, form: str, f: dict, rng: random.Random) -> str:
    zh = bench in ("cmmlu", "ceval")
    if form == "question":
        return f["question"]
    if form == "solution":
        return f["solution"]
    if form == "question+options":
        labels = rng.choice([["A.", "B.", "C.", "D."], ["(A)", "(B)", "(C)", "(D)"], ["A、", "B、", "C、", "D、"]])
        sep = rng.choice(["\n", "  "])
        return f"{rng.randint(1, 40)}. {f['question']}\n" + sep.join(f"{lab} {o}" for lab, o in
                                                                     zip(labels, f["options"], strict=False))
    base = f["question"] + ("\n" + "\n".join(f["options"]) if "options" in f and rng.random() < 0.5 else "")
    if form == "traditional":
        return _to_traditional(base)
    return reformat(base, rng, zh)


@cache
def _s2t() -> Any:
    from opencc import OpenCC

    return OpenCC("s2t")


def _to_traditional(text: str) -> str:
    return _s2t().convert(text)


def plant(text: str, snippet: str, rng: random.Random) -> str:
    """The snippet as its own paragraph somewhere inside a page."""
    paras = text.split("\n")
    at = rng.randint(0, len(paras))
    return "\n".join(paras[:at] + [snippet] + paras[at:])


def tokens(text: str) -> list[int]:
    """Word tokens as a reader compares them (case, full-width forms and one-letter labels ignored)."""
    return token_spans(text, fold=True)[2].tolist()


def words(text: str) -> float:
    """Words, a Chinese character counting as half a word."""
    return len(tokens(text)) - 0.5 * len(_CJK.findall(text))


def distinctive(bench: str, form: str, f: dict, repeated: set[str]) -> bool:
    """A leak of this form can be told apart from ordinary text: the question alone has at
    least 8 words (16 Chinese characters) and is not the same words as another item's question ("下列说法正确的是"); a
    solution alone has at least 13 tokens (a one-line ``return x + y`` identifies nothing)."""
    if form == "solution":
        return len(tokens(f["solution"])) >= 13
    q = f["question"]
    return form == "question+options" or (words(q) >= 8 and tuple(tokens(q)) not in repeated)


def planted_pages(root: Path, pages: list[tuple[str, str]], per_form: int, seed: int = 0
                  ) -> list[tuple[str, str, str, str]]:
    """(benchmark, form, item name, page text with the item planted)."""
    rng = random.Random(seed)
    out = []
    for bench, forms in FORMS.items():
        items = list(load_benchmark(bench, root))
        seen = Counter(tuple(tokens(_fields(bench, u)["question"])) for _, _, u in items)
        repeated = {q for q, c in seen.items() if c > 1}
        for form in forms:
            pool = [it for it in items if distinctive(bench, form, _fields(bench, it[2]), repeated)]
            for bench_, item_id, units in rng.sample(pool, min(per_form, len(pool))):
                page = rng.choice(pages)[1]
                snippet = render(bench, form, _fields(bench_, units), rng)
                out.append((bench, form, f"{bench_}:{item_id}", plant(page, snippet, rng)))
    return out
