"""A second hub process that holds a person's data key, for the cross-process erasure test.

Run as ``python key_holder_process.py ROOT [DATABASE_URL]``. It opens the deployment as a hub
(its own keyring), stores one of Alex's heart-rate readings, opens it, keeps the sealed rows
and a read still open, then prints ``ready``. On ``check`` from stdin it tries, again and
again for at most 20 s and without restarting, to open what it kept and to seal for Alex,
and prints one JSON line saying what it could still do.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from goodthings.core.config import Home
from goodthings.core.keys import UNREADABLE, ReadingOpener, row_context
from goodthings.core.store import Selection, select_readings
from goodthings.ingest.batch import Incoming
from goodthings.runtime.hub import Hub

DEVICE, SUBJECT = "band-alex", "alex"


def _pack(moment: float) -> Incoming:
    body = json.dumps([{"n": "heart_rate", "u": "beat/min", "v": 61.0, "t": moment}])
    return Incoming(DEVICE, body.encode(), moment)


def _seals_with(hub: Hub, old_key: AESGCM) -> str:
    """Whether this process can still seal for the person, and under which key."""
    try:
        sealer = hub.keyring.sealer(SUBJECT)
    except KeyError:
        return "refused"
    context = row_context(DEVICE, 1, 1.0)
    sealed = sealer.seal(1.0, context)
    try:
        old_key.decrypt(sealed[:12], sealed[12:], context)
    except InvalidTag:
        return "another key"
    return "the erased key"


def main() -> None:
    root, url = Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else None)
    hub = Hub.open(Home(root, url))
    stored = hub.pipeline.ingest([_pack(time.time())]).results[0].stored
    with hub.engine.connect() as connection:
        kept = list(select_readings(connection, Selection(subject_id=SUBJECT)))
        raw = hub.keyring.raw_key(connection, SUBJECT)
    assert raw is not None
    old_key = AESGCM(raw)
    held_connection = hub.engine.connect()
    held = ReadingOpener(hub.keyring, held_connection)  # a read under way before the erasure
    opened = sum(held.open(reading) is not UNREADABLE for reading in kept)
    print(json.dumps({"stored": stored, "kept": len(kept), "opened": opened}), flush=True)
    assert sys.stdin.readline().strip() == "check"
    started = time.monotonic()
    while True:
        with hub.engine.connect() as connection:
            fresh = ReadingOpener(hub.keyring, connection)
            fresh_opened = sum(fresh.open(r) is not UNREADABLE for r in kept)
        held_opened = sum(held.open(r) is not UNREADABLE for r in kept)
        ingested = hub.pipeline.ingest([_pack(time.time())]).results[0].stored
        sealing = _seals_with(hub, old_key)
        done = not (fresh_opened or held_opened or ingested) and sealing != "the erased key"
        if done or time.monotonic() - started > 20:
            break
        time.sleep(0.005)
    print(
        json.dumps(
            {
                "fresh_read_opened": fresh_opened,
                "held_read_opened": held_opened,
                "ingest_stored": ingested,
                "sealing": sealing,
            }
        ),
        flush=True,
    )
    held_connection.close()
    hub.close()


if __name__ == "__main__":
    main()
