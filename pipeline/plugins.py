"""Where steps and stage kinds come from: modules that register them when imported.

The core never imports the folders above it. Built-in steps (``cc_cleaner.filters``) and stage
kinds (``cc_cleaner.dedup``) are found, like a user's package, through the ``cc_cleaner.plugins``
entry points (``pyproject.toml``); a user's step can also be named by dotted path
(``mypkg.filters:MyFilter``), imported wherever a task runs.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

GROUP = "cc_cleaner.plugins"
_loaded = False


def load_plugins() -> None:
    """Import every registered plugin module once per process (each registers what it defines)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        ep.load()


def import_object(path: str) -> Any:
    """``package.module:Name`` -> the object; errors say which part is missing."""
    module, _, name = path.partition(":")
    if not module or not name:
        raise ValueError(f"{path!r}: expected 'package.module:Name'")
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise ValueError(f"{path!r}: cannot import {module!r} ({e})") from None
    try:
        return getattr(mod, name)
    except AttributeError:
        raise ValueError(f"{path!r}: module {module!r} has no {name!r}") from None
