"""`goodthings demo` end to end: simulated devices, their readings, a withdrawal they obey."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

import httpx2
from sqlalchemy import func, select

from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.core.store import tables_monitoring as tm
from goodthings.deployment.directory import open_store
from hubs import clean_environment, free_port


def counts_by_stream(home: Home) -> dict[str, int]:
    engine = open_store(home)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(t.streams.c.name, func.count())
                .join(t.readings, t.readings.c.stream_id == t.streams.c.id)
                .group_by(t.streams.c.name)
            ).all()
    finally:
        engine.dispose()
    return {name: count for name, count in rows}


_PRINTED: dict[int, list[str]] = {}
"""Every line each demo process printed so far, by process id: a wait that fails shows all."""


def wait_for_line(process: subprocess.Popen[str], text: str, timeout: float = 60) -> list[str]:
    """The lines read until one printed contains `text`, this one or one read before: the
    demo's threads print in whatever order they run (a device hears of a withdrawal before
    the story that made it says so)."""
    assert process.stdout is not None
    seen = _PRINTED.setdefault(process.pid, [])
    start = len(seen)
    if any(text in line for line in seen):
        return []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return seen[start:]
    raise AssertionError(
        f"{text!r} never printed; the demo printed:\n{''.join(seen)}\n"
        f"the demo's threads then:\n{thread_stacks(process.pid)}"
    )


def thread_stacks(pid: int) -> str:
    """What every thread of the demo was doing (py-spy, from outside): a wait that timed out
    says whether the hub was stuck, and where, or only slow."""
    py_spy = Path(sys.executable).with_name("py-spy")
    try:
        dumped = subprocess.run(
            [str(py_spy), "dump", "--pid", str(pid)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"(py-spy could not dump them: {error})"
    return dumped.stdout or dumped.stderr


def presence_settled(home: Home, timeout: float = 30.0) -> dict[str, int]:
    """The counts once presence has stopped growing for a second.

    Readings the sensor sent before its new policy reached it may still be on their way to the
    store (a busy machine delays them by more than a second); a sensor that did not stop never
    settles, and the test fails here.
    """
    deadline = time.monotonic() + timeout
    counts = counts_by_stream(home)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        later = counts_by_stream(home)
        if later.get("presence", 0) == counts.get("presence", 0):
            return later
        counts = later
    raise AssertionError(f"presence was still being stored {timeout} s after the withdrawal")


def test_the_demo_collects_then_stops_the_withdrawn_stream(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    command = [sys.executable, "-m", "goodthings", "demo", "--dir", str(directory)]
    # Six seconds: a busy machine takes more than three for the sensor's first reading.
    command += ["--port", str(free_port()), "--withdraw-after", "6", "--interval", "0.3"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_environment() | {"PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )
    try:
        printed = wait_for_line(process, "Press Ctrl-C to stop.")
        assert any("Devices and streams   http://127.0.0.1:" in line for line in printed)
        assert any("Alex's portal         http://127.0.0.1:" in line for line in printed)
        [console] = [line.split()[2] for line in printed if line.startswith("  The console ")]
        assert "/console/login/link/" in console
        printed += wait_for_line(process, "withdrew consent to opensense-p3/presence")
        printed += wait_for_line(process, "presence-living: stopped collecting presence")
        first = httpx2.get(console, follow_redirects=False, trust_env=False)
        assert (first.status_code, first.headers["location"]) == (303, "/console/login/code")
        assert "gt_console" in first.headers["set-cookie"]
        again = httpx2.get(console, follow_redirects=False, trust_env=False)
        assert (again.status_code, again.headers["location"]) == (303, "/console/login")
        home = Home(directory)
        before = presence_settled(home)
        time.sleep(2.0)
        after = counts_by_stream(home)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert before.get("presence", 0) > 0, "presence was collected before the withdrawal"
    assert after["presence"] == before["presence"], "the sensor stopped sending presence"
    assert after["temperature"] > before["temperature"], "the other devices go on"
    assert process.returncode == 0, output
    assert "Demo stopped." in output


def test_the_demo_quarantines_a_mirai_like_device_and_the_others_go_on(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    command = [sys.executable, "-m", "goodthings", "demo", "--dir", str(directory)]
    command += ["--port", str(free_port()), "--attack-after", "2", "--withdraw-after", "600"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_environment() | {"PYTHONUNBUFFERED": "1", "COLUMNS": "300"},
    )
    try:
        printed = wait_for_line(process, "Press Ctrl-C to stop.")
        printed += wait_for_line(process, "Mirai-like bot")
        printed += wait_for_line(process, "Monitor: credential-stuffing detected (127.0.0.66)")
        printed += wait_for_line(process, "sign-ins refused")
        printed += wait_for_line(process, "Quarantine: meter-1 is cut off", timeout=120)
        printed += wait_for_line(process, "the other devices go on", timeout=120)
        measured_after = readings_measured_after_the_quarantine(Home(directory))
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    text = "".join(printed)
    assert "Attack: sign-in as 'band-alex' / 'xc3511' refused." in text
    assert "different devices within 10 minutes: someone is trying" in text
    assert "Lockout (an alert for the operator):" in text + output
    assert "Monitor: flood detected (meter-1):" in text
    assert "Alert (" in text + output and "The device was quarantined." in text + output
    home = Home(directory)
    assert "flood: quarantine" in home.manifest_path.read_text(encoding="utf-8")
    assert measured_after, "readings the other devices measured after the quarantine are stored"
    assert process.returncode == 0, output


def readings_measured_after_the_quarantine(home: Home, timeout: float = 30.0) -> int:
    """Readings of the other devices timed after meter-1's quarantine, once there are any.

    The demo's "the other devices go on" counts readings *stored* since the quarantine, and the
    first of those may have been measured just before it, still on its way through a busy hub:
    so the store is watched, while the demo runs, for readings measured after it (a device sends
    one every two seconds).
    """
    engine = open_store(home)
    try:
        with engine.connect() as connection:
            quarantined_at = connection.execute(
                select(func.min(tm.quarantine_events.c.at)).where(
                    tm.quarantine_events.c.device_id == "meter-1"
                )
            ).scalar()
        assert quarantined_at is not None, "the quarantine was recorded"
        if quarantined_at.tzinfo is None:
            quarantined_at = quarantined_at.replace(tzinfo=UTC)
        later = (
            select(func.count())
            .select_from(t.readings)
            .where(t.readings.c.device_id != "meter-1")
            .where(t.readings.c.time > quarantined_at.timestamp())
        )
        deadline = time.monotonic() + timeout
        while True:
            with engine.connect() as connection:
                found = int(connection.execute(later).scalar() or 0)
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.5)
    finally:
        engine.dispose()
