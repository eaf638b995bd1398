"""Finish erasures a killed process left half-way, so none waits past its deadline.

A request is `started` from the moment its consents begin to be withdrawn, and `unreadable`
once its key is destroyed; either state with the erasure lock free means the process carrying
it out died. `Hub.open` and a running hub's background job call `resume_interrupted`, which
takes each such request from where it stopped to done (purge, receipt). A request only
`requested` (from the portal, waiting for the operator) is left to the operator.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from goodthings.core.keys import Keyring
from goodthings.core.store import tables_portal as tp
from goodthings.rights.erasure.lock import erasure_lock
from goodthings.rights.erasure.shred import STARTED, carry_out

INTERRUPTED = (STARTED, "unreadable")


def resume_interrupted(engine: Engine, keyring: Keyring, signer: Ed25519PrivateKey) -> int:
    """Finish every erasure that was started and not done; returns how many. Does nothing
    while another process holds the erasure lock: that one is still at work."""
    with erasure_lock(keyring.vault.keys_dir, wait=False) as held:
        if not held:
            return 0
        with engine.connect() as connection:
            stalled = list(
                connection.execute(
                    select(tp.erasure_requests.c.id)
                    .where(tp.erasure_requests.c.state.in_(INTERRUPTED))
                    .order_by(tp.erasure_requests.c.deadline)
                ).scalars()
            )
        for request_id in stalled:
            carry_out(engine, keyring, signer, request_id)
        return len(stalled)
