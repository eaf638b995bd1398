"""A second hub process that signs with the signing key it loaded, for the rotation test.

Run as ``python signing_process.py ROOT [DATABASE_URL]``. It opens the deployment as a hub,
stores one reading, prints ``ready`` with the key id it signs with, then stores a reading
every few milliseconds, without restarting, until a line arrives on stdin. It then gives a
consent (a receipt, signed now), signs the ledger's head and prints one JSON line: the key id
it holds at the end, how many readings it stored, the receipt and the key that signed the head.
"""

from __future__ import annotations

import json
import select
import sys
import time
from pathlib import Path

from goodthings.core import ledger
from goodthings.core.config import Home
from goodthings.core.ledger import FollowingSigner
from goodthings.rights.consent import records as consent
from goodthings.rights.receipts.consent import document
from goodthings.runtime.hub import Hub

sys.path.insert(0, str(Path(__file__).parents[2]))
from portal_helpers import send


def main() -> None:
    root, url = Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else None)
    hub = Hub.open(Home(root, url))
    assert isinstance(hub.signer, FollowingSigner)
    started = time.time() - 100_000
    stored = send(hub, "band-alex", "heart_rate", [60.0], started)
    print(json.dumps({"ready": hub.signer.key_id}), flush=True)
    step = 0
    while not select.select([sys.stdin], [], [], 0.003)[0]:
        step += 1
        stored += send(hub, "band-alex", "heart_rate", [61.0], started + step)
    sys.stdin.readline()
    record = consent.give(
        hub.engine,
        hub.signer,
        consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation"),
    )
    # The consent's own entry is signed at once when the last checkpoint is over a second old
    # (a busy machine), and then there is nothing left to sign: the head's checkpoint is read.
    ledger.sign_head(hub.engine, hub.signer)
    with hub.engine.connect() as connection:
        receipt = document(connection, "alex", record.receipt_id)
        signed = ledger.checkpoints(connection)[-1]
        assert signed.seq == ledger.head(connection).seq
    print(
        json.dumps(
            {
                "key_id": hub.signer.key_id,
                "stored": stored,
                "receipt": receipt,
                "signed": signed.key_id,
            }
        )
    )
    hub.close()


if __name__ == "__main__":
    main()
