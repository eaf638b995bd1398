"""After an erasure in one process, a second real process that held the person's data key in
memory can neither open their readings nor seal new ones with that key, without a restart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from goodthings.rights.consent import records as consent
from goodthings.rights.erasure import erase_subject
from goodthings.runtime.hub import Hub
from hubs import clean_environment

HOLDER = Path(__file__).with_name("key_holder_process.py")


def test_an_erasure_reaches_a_second_process_that_held_the_key(smart_home: Hub) -> None:
    hub = smart_home
    change = consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation", method="cli")
    consent.give(hub.engine, hub.signer, change)
    url = hub.home.database_url_override
    command = [sys.executable, str(HOLDER), str(hub.home.root), *([url] if url else [])]
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=clean_environment(),
    ) as second:
        assert second.stdin is not None and second.stdout is not None
        before = json.loads(second.stdout.readline())
        assert before == {"stored": 1, "kept": 1, "opened": 1}  # it holds the key and uses it
        erase_subject(hub.engine, hub.keyring, hub.signer, "alex")
        second.stdin.write("check\n")
        second.stdin.flush()
        after = json.loads(second.stdout.readline())
        second.stdin.close()
        second.wait(timeout=60)
    assert second.returncode == 0
    assert after["fresh_read_opened"] == 0
    assert after["held_read_opened"] == 0
    assert after["ingest_stored"] == 0
    assert after["sealing"] != "the erased key"
