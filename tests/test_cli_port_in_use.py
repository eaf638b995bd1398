"""A port already taken is one plain line and a non-zero exit, before the broker or the
simulated devices start: no traceback among asyncio's noise."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_helpers import run
from goodthings.core.config import Home
from hubs import clean_environment
from templates import init_from_template


@pytest.fixture
def taken() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_demo_on_a_used_port_says_so_in_one_line(taken: int, tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "goodthings", "demo", "--port", str(taken), "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_environment(),
        check=False,
    )
    assert ran.returncode == 1
    assert (
        ran.stderr
        == f"error: port {taken} is in use; pass --port with another one (0 picks a free one)\n"
    )
    assert ran.stdout == ""


def test_serve_on_a_used_port_says_so_before_starting(
    capsys: pytest.CaptureFixture[str], taken: int, tmp_path: Path
) -> None:
    home = Home(tmp_path / "home")
    init_from_template(home, "smart-home")
    ran = run(capsys, "serve", "--port", str(taken), "--home", str(home.root))
    assert ran.code == 1
    assert f"port {taken} is in use; pass --port" in ran.err
    assert "running" not in ran.out
