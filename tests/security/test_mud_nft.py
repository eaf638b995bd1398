"""A model's MUD file compiled into nftables rules, loaded into a network namespace the test
creates, with a veth pair to a second namespace standing in for the device: the flow the MUD
file allows passes, another is dropped."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli_helpers import run
from debian import installed
from goodthings.core.config import Home
from goodthings.security.mud import check_mud, generate, nft_ruleset
from templates import init_from_template

GATEWAY, DEVICE = "10.213.7.1", "10.213.7.2"
ALLOWED, OTHER = 8883, 9999
_LISTEN = """
import socket, sys, threading
def serve(port):
    with socket.create_server((sys.argv[1], port)) as server:
        while True:
            server.accept()[0].close()
for port in sys.argv[2:]:
    threading.Thread(target=serve, args=(int(port),), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""
_CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1.5)"


def _nft() -> str:
    return installed("nft", "nftables")


@dataclass(frozen=True)
class Pair:
    gateway: str
    device: str

    def reaches(self, port: int) -> bool:
        command = ["ip", "netns", "exec", self.device, sys.executable, "-c", _CONNECT]
        return subprocess.run([*command, GATEWAY, str(port)], capture_output=True).returncode == 0


@pytest.fixture
def pair() -> Iterator[Pair]:
    suffix = secrets.token_hex(3)
    gateway, device = f"gt-gw-{suffix}", f"gt-dev-{suffix}"
    steps = [
        ["netns", "add", gateway],
        ["netns", "add", device],
        ["link", "add", f"gtg{suffix}", "type", "veth", "peer", "name", f"gtd{suffix}"],
        ["link", "set", f"gtg{suffix}", "netns", gateway],
        ["link", "set", f"gtd{suffix}", "netns", device],
        ["-n", gateway, "addr", "add", f"{GATEWAY}/24", "dev", f"gtg{suffix}"],
        ["-n", device, "addr", "add", f"{DEVICE}/24", "dev", f"gtd{suffix}"],
        ["-n", gateway, "link", "set", f"gtg{suffix}", "up"],
        ["-n", device, "link", "set", f"gtd{suffix}", "up"],
        ["-n", gateway, "link", "set", "lo", "up"],
    ]
    try:
        for step in steps:
            subprocess.run(["ip", *step], check=True, capture_output=True)
        yield Pair(gateway, device)
    finally:
        for name in (gateway, device):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_the_ruleset_lets_the_allowed_flow_pass_and_drops_another(
    pair: Pair, tmp_path: Path
) -> None:
    nft = _nft()
    mud = generate(
        model_id="opensense-d1",
        systeminfo="OpenSense D1 door contact",
        mud_url="https://opensense.example/mud/d1.json",
        controller=GATEWAY,
        ports=[ALLOWED],
        supported=True,
    )
    rules = check_mud(mud).rules
    ruleset = nft_ruleset(rules, device=DEVICE, controller=GATEWAY)
    assert f"ip saddr {DEVICE} ip daddr {{ {GATEWAY} }} tcp dport {ALLOWED} accept" in ruleset
    listen = ["ip", "netns", "exec", pair.gateway, sys.executable, "-c", _LISTEN, GATEWAY]
    with subprocess.Popen([*listen, str(ALLOWED), str(OTHER)], stdout=subprocess.PIPE) as server:
        try:
            assert server.stdout is not None and server.stdout.readline() == b"ready\n"
            assert pair.reaches(ALLOWED) and pair.reaches(OTHER)  # open before the ruleset
            path = tmp_path / "mud.nft"
            path.write_text(ruleset)
            subprocess.run(["ip", "netns", "exec", pair.gateway, nft, "-f", str(path)], check=True)
            assert pair.reaches(ALLOWED)
            assert not pair.reaches(OTHER)
        finally:
            server.kill()


def test_generate_writes_a_file_that_check_accepts(
    home: Home, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    init_from_template(home, "smart-home")
    made = run(
        capsys,
        "mud",
        "generate",
        "opensense-d1",
        "--controller",
        "hub.example",
        "--home",
        str(home.root),
    )
    assert made.code == 0, made.err
    path = tmp_path / "d1.json"
    path.write_text(made.out)
    checked = run(capsys, "mud", "check", str(path))
    assert "the device may talk to hub.example over TCP port 1883" in checked.out
    assert "the device may talk to hub.example over TCP port 8080" in checked.out
    ruleset = run(
        capsys, "mud", "nft", str(path), "--device-ip", DEVICE, "--controller", GATEWAY
    ).out
    assert ruleset.rstrip().endswith("}") and f"ip saddr {DEVICE} drop" in ruleset
    assert json.loads(made.out)["ietf-mud:mud"]["is-supported"] is True
