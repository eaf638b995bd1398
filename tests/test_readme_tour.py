"""The README's tour runs as written: its marked block, line by line in bash, from a fresh
directory, against a hub it starts itself on a free loopback port.

The README stays the only copy of the tour. The test changes it in two ways only: the hub's
port 8080 becomes a free one (its MQTT broker too, through GOODTHINGS_MQTT_PORT), and after the
line that starts the hub in the background it waits until the hub answers.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
TOUR_PORT = "8080"

PROLOGUE = """\
set -euo pipefail
trap 'echo "tour: this line failed with exit status $?: $BASH_COMMAND" >&2' ERR
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
"""
# Waiting for the hub to answer is how the tour's reader behaves too; the loop ends when the
# hub answers or its process has gone, and pytest's own timeout bounds the whole run.
WAIT_FOR_HUB = """\
until curl -sf http://127.0.0.1:{port}/healthz >/dev/null; do
  kill -0 $! 2>/dev/null || {{ echo "tour: the hub stopped before it answered" >&2; exit 1; }}
  sleep 0.1
done
"""


def tour_lines(readme: str) -> list[str]:
    """The shell lines of the README's block between `<!-- tour -->` and `<!-- /tour -->`."""
    found = re.search(r"<!-- tour -->\s*```sh\n(.*?)```\s*<!-- /tour -->", readme, re.DOTALL)
    assert found, "README.md has no ```sh block between <!-- tour --> and <!-- /tour -->"
    return found.group(1).splitlines()


def tour_script(lines: list[str], port: int) -> str:
    script = [PROLOGUE]
    for line in lines:
        script.append(line.replace(TOUR_PORT, str(port)) + "\n")
        if re.match(r"goodthings serve\b.*&", line):
            script.append(WAIT_FOR_HUB.format(port=port))
    return "".join(script)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _isolated_environment(home: Path) -> dict[str, str]:
    """Nothing of the caller's environment but the system's PATH: no GOODTHINGS_* setting
    leaks in, and `goodthings` is found as it is after `. .venv/bin/activate`."""
    venv_bin = Path(sys.executable).parent
    return {
        "PATH": f"{venv_bin}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "EDITOR": "true",  # the tour's `$EDITOR goodthings.yaml`: the reader edits nothing
        "GOODTHINGS_MQTT_PORT": "0",  # the embedded broker on a free port, not 1883
    }


def test_the_tour_has_the_commands_it_promises() -> None:
    lines = "\n".join(tour_lines(README))
    assert "TOKEN=$(goodthings device token thermostat-1)" in lines
    assert '"Authorization: Bearer $TOKEN"' in lines
    assert re.search(r"^goodthings serve\b.*&", lines, re.MULTILINE)


def test_the_readme_calls_the_command_one_way() -> None:
    assert ".venv/bin/goodthings" not in README
    assert ". .venv/bin/activate" in README


def test_the_tour_runs_as_written_from_a_fresh_directory(tmp_path: Path) -> None:
    port = _free_port()
    script = tmp_path / "tour.sh"
    script.write_text(tour_script(tour_lines(README), port), encoding="utf-8")
    workdir = tmp_path / "fresh"
    workdir.mkdir()
    process = subprocess.Popen(
        ["bash", str(script)],
        cwd=workdir,
        env=_isolated_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
    assert process.returncode == 0, err
    assert (workdir / "my-home" / "settings.env").exists()
    assert '"stored":1' in out, out  # the reading sent with the token was stored
    assert f"http://127.0.0.1:{port}/portal/sign-in/" in out  # the recorded public address


def test_make_demo_passes_args_to_the_demo() -> None:
    ran = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "-n", "demo", "ARGS=--port 18200"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ran.stdout.splitlines()[-1] == ".venv/bin/goodthings demo --port 18200"
