"""`goodthings serve` and `goodthings demo`: run the hub, for real or on a throwaway deployment."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.config import Home, resolve_home
from goodthings.deployment import init_deployment
from goodthings.web.app import create_app

HostOption = Annotated[str, typer.Option(help="Address to listen on (127.0.0.1 keeps it local).")]


def serve(
    home: HomeOption = None,
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the web pages and the API.")] = 8080,
) -> None:
    """Run the hub for a deployment: web pages and API (stop with Ctrl-C)."""
    _run(home_of(home), host, port)


def demo(
    port: Annotated[
        int, typer.Option(help="Port for the demo (0 picks a free one; 8080 if it is free).")
    ] = 0,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Keep the demo deployment in this directory instead of a temporary one."
        ),
    ] = None,
) -> None:
    """Run the smart-home example on a throwaway deployment, with everything embedded."""
    chosen = port or _free_port(preferred=8080)
    if directory is not None:
        _demo_in(resolve_home(directory), chosen)
        return
    with tempfile.TemporaryDirectory(prefix="goodthings-demo-") as tmp:
        _demo_in(resolve_home(Path(tmp) / "deployment"), chosen)


def _demo_in(home: Home, port: int) -> None:
    init_deployment(home, "smart-home")
    out.print(f"Demo deployment (smart-home example) in {home.root}")
    _run(home, "127.0.0.1", port)
    out.print("Demo stopped.")


def _run(home: Home, host: str, port: int) -> None:
    app = create_app(home)
    base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    out.print(f"goodthings is running for {home.root}")
    out.print(f"  Devices and streams   {base}/")
    out.print(f"  Notice for people     {base}/notice")
    out.print(f"  API reference         {base}/docs")
    out.print("Press Ctrl-C to stop.")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _free_port(preferred: int) -> int:
    for candidate in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")
