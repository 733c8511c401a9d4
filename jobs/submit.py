"""``cc-cleaner submit``: run a job on a Ray cluster through Ray Jobs.

The job file's folder (or ``--working-dir``) is uploaded with the job, so relative paths in the
job file resolve there on the cluster, as they do here. The output must be storage every node
reaches; the driver on the cluster runs ``cc-cleaner run --engine ray --address auto``.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable
from pathlib import Path

from cc_cleaner.pipeline.job import Job

TOKEN_FILE = Path.home() / ".ray" / "auth_token"


class SubmitError(Exception):
    def __init__(self, msg: str, code: int = 2) -> None:
        super().__init__(msg)
        self.code = code


def entrypoint(job_rel: str, output: str, python_exe: str, workers: int | None, restart_from: str | None) -> str:
    args = [python_exe, "-m", "cc_cleaner.jobs.cli", "run", job_rel, "--engine", "ray", "--address", "auto",
            "--output", output, "--quiet"]
    if workers:
        args += ["--workers", str(workers)]
    if restart_from:
        args += ["--restart-from", restart_from]
    return shlex.join(args)


def token_auth_env() -> None:
    """Ray 2.60 clusters require a token unless started with RAY_AUTH_MODE=disabled, and the client
    only sends one in token mode, read when ray is imported: so set it first, when a token exists."""
    if "RAY_AUTH_MODE" not in os.environ and (os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
                                              or TOKEN_FILE.exists()):
        os.environ["RAY_AUTH_MODE"] = "token"


def _client(address: str):  # noqa: ANN202 - ray's client type is imported lazily
    token_auth_env()
    from ray.job_submission import JobSubmissionClient

    try:
        return JobSubmissionClient(address)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        hint = (" (the cluster wants a token: put it in ~/.ray/auth_token or RAY_AUTH_TOKEN)"
                if "uthentication" in str(e) else "")
        raise SubmitError(f"cannot reach the Ray dashboard at {address}: {first}{hint}") from None


def submit_job(job_file: str, job: Job, address: str, working_dir: str | None, python_exe: str,
               workers: int | None, restart_from: str | None, wait: bool = False,
               echo: Callable[[str], None] = print) -> str:
    client = _client(address)
    from ray.job_submission import JobStatus

    job_path = Path(job_file).resolve()
    wd = Path(working_dir).resolve() if working_dir else job_path.parent
    if not job_path.is_relative_to(wd):
        raise SubmitError(f"the job file {job_path} is not inside the working dir {wd}")
    if "://" not in job.output:
        echo(f"note: output {job.output} is a local path; every Ray node must see it at this path")
    cmd = entrypoint(str(job_path.relative_to(wd)), job.output, python_exe, workers, restart_from)
    deadline = time.monotonic() + 120
    while True:
        try:
            sid = client.submit_job(entrypoint=cmd, runtime_env={"working_dir": str(wd)},
                                    metadata={"cc_cleaner_job": job.spec.name, "output": job.output})
            break
        except RuntimeError as e:  # a head that just started has no job agent yet
            if "No available agent" not in str(e) or time.monotonic() > deadline:
                raise SubmitError(f"Ray refused the job: {str(e).strip().splitlines()[0]}") from None
            time.sleep(2.0)
    if not wait:
        return sid
    shown = 0
    while True:
        try:
            status = client.get_job_status(sid)
            logs = client.get_job_logs(sid)
        except Exception as e:  # the dashboard went away (cluster stopped, network)
            raise SubmitError(f"lost the Ray dashboard at {address} while following job {sid}: "
                              f"{type(e).__name__}", 1) from None
        if len(logs) > shown:
            echo(logs[shown:].rstrip("\n"))
            shown = len(logs)
        if status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED):
            break
        time.sleep(1.0)
    if status != JobStatus.SUCCEEDED:
        info = client.get_job_info(sid)
        raise SubmitError(f"Ray job {sid} {status.value.lower()}: {info.message or ''}".strip(), 1)
    return sid
