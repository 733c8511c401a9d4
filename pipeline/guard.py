"""An output folder belongs to one job, and one run at a time.

``claim_output`` refuses a path that is a file, a folder written by a different job (or holding
files that are not a cc-cleaner output) unless forced, and takes the folder's lock: a small file
naming the run's host and pid. A second run on the same folder fails at once naming the holder; a
lock left by a run that died on this host (its pid is gone) is stale: it is taken over and said.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid

import yaml

from cc_cleaner.pipeline import layout
from cc_cleaner.pipeline.store import Store


class OutputError(RuntimeError):
    """The output folder cannot be used by this run; the message says why and what to do."""


def claim_output(store: Store, job_name: str, force: bool = False) -> tuple[str, list[str]]:
    """Check the folder and take its lock; returns (the lock's token, notes for the user)."""
    if store.fs.isfile(store.root):
        raise OutputError(f"output {store.url} is a file, not a folder")
    notes: list[str] = []
    if store.exists(layout.JOB_FILE):
        try:
            other = (yaml.safe_load(store.read_text(layout.JOB_FILE)) or {}).get("name")
        except yaml.YAMLError:
            other = None
        if other != job_name:
            if not force:
                raise OutputError(f"output {store.url} holds job {other!r}, not {job_name!r}; choose another "
                                  "output, or --force to take it over (its files stay)")
            notes.append(f"took over {store.url} from job {other!r} (--force)")
    elif store.fs.exists(store.root) and store.fs.ls(store.root, detail=False):
        if not force:
            raise OutputError(f"output {store.url} is not empty and holds no cc-cleaner job; choose another "
                              "output, or --force to write into it")
        notes.append(f"writing into non-empty {store.url} (--force)")
    return _lock(store, notes), notes


def _alive(info: dict) -> bool:
    if info.get("host") != socket.gethostname():
        return True  # another machine's process cannot be checked from here
    try:
        os.kill(int(info.get("pid", 0)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def _lock(store: Store, notes: list[str]) -> str:
    rel = layout.LOCK_FILE
    token = uuid.uuid4().hex
    mine = {"host": socket.gethostname(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S"),
            "token": token}
    for _ in range(2):
        if store.exists(rel):
            try:
                held = json.loads(store.read_text(rel))
            except (ValueError, OSError):
                held = {}
            if held and _alive(held):
                raise OutputError(f"output {store.url} is in use by a run on {held.get('host')} "
                                  f"(pid {held.get('pid')}, since {held.get('since')}); wait for it, or delete "
                                  f"{store.path(rel)} if that run is gone")
            notes.append(f"removed a stale lock of a run that is gone ({held.get('host')}, pid {held.get('pid')}, "
                         f"since {held.get('since')})")
            store.remove(rel)
        if _create(store, rel, json.dumps(mine)):
            return token
    raise OutputError(f"output {store.url}: another run took the lock at the same time")


def _create(store: Store, rel: str, text: str) -> bool:
    """Create the lock file only if it does not exist (exclusive on a local disk; elsewhere a
    write then a read-back, which catches all but a simultaneous start)."""
    path = store.path(rel)
    store.fs.makedirs(os.path.dirname(path), exist_ok=True)
    if store.is_local:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return True
    store.write_text(rel, text)
    return json.loads(store.read_text(rel)).get("token") == json.loads(text)["token"]


def release_output(store: Store, token: str) -> None:
    """Drop the lock if it is still ours."""
    try:
        if json.loads(store.read_text(layout.LOCK_FILE)).get("token") == token:
            store.remove(layout.LOCK_FILE)
    except (OSError, ValueError):
        pass
