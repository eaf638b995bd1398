"""`goodthings bench --profile DIR`: py-spy samples a worker while a phase runs.

py-spy reads the worker's stacks from outside (ptrace), so the worker runs the code it runs in
production, unchanged, and the profile covers exactly one phase's load. It samples without
pausing the worker (`--nonblocking`), which keeps the figures of a profiled run close to an
unprofiled one; they are still marked as profiled in the history, and compared only with
other profiled runs. Each profiled phase gives one flame graph, `<phase>-worker-<N>.svg`, which
a browser opens, and py-spy's own output beside it (`.py-spy.log`) for when it failed.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from goodthings.bench.load import BenchError, Say

RATE = 100
"""Samples per second: py-spy's default, cheap enough to leave the worker's figures alone."""


def find_py_spy() -> Path:
    """py-spy's binary beside this interpreter (a virtualenv not on PATH) or on PATH, or a
    BenchError saying how to install it."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return beside
    found = shutil.which("py-spy")
    if found is None:
        raise BenchError(
            "--profile needs py-spy: install it with `pip install 'goodthings[bench]'` "
            "(or `pip install py-spy`)"
        )
    return Path(found)


@contextmanager
def profiled(directory: Path | None, pid: int, name: str, say: Say) -> Iterator[None]:
    """While the block runs, record worker `pid` into `directory/<name>.svg`; no-op without a
    directory."""
    if directory is None:
        yield
        return
    binary = find_py_spy()
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / f"{name}.svg"
    log = directory / f"{name}.py-spy.log"
    with log.open("wb") as log_file:
        recorder = subprocess.Popen(  # noqa: S603 - py-spy with our own arguments, no shell
            [
                str(binary),
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(RATE),
                "--nonblocking",
                "--format",
                "flamegraph",
                "--output",
                str(output),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            yield
        finally:
            # py-spy writes its output when interrupted, as after Ctrl-C.
            if recorder.poll() is None:
                recorder.send_signal(signal.SIGINT)
            try:
                recorder.wait(timeout=60)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait()
    if not output.exists():
        raise BenchError(
            f"py-spy wrote no profile of process {pid} for {name}; its output:\n"
            f"{log.read_text(errors='replace')[-2000:]}"
        )
    say(f"profile: {output}")
