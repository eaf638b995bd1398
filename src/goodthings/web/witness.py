"""The witness routes: a goodthings instance keeps another hub's signed checkpoints.

`POST /witness/checkpoints` takes one checkpoint (the witness-file fields as JSON) from the
hub whose public key `GOODTHINGS_WITNESS_PEER_KEY` names: 200 when it is kept (or was already),
409 when it would roll back or fork what the witness holds, 422 when the signature does not
hold. `POST /witness/keys` takes a change of the hub's signing key, signed by the key before
and the key after (422 otherwise). `GET /witness/checkpoints` lists what the witness holds, for
`goodthings ledger verify --witness-url`. Both answer 404 on an instance that is not configured as a witness. The
checks are in `core/ledger/witnessing.py`; no token is needed, as only a checkpoint signed by
the peer's key is ever kept.
"""

from __future__ import annotations

from dataclasses import asdict

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from goodthings.core import ledger
from goodthings.core.keys import load_public_key
from goodthings.runtime import Hub
from goodthings.web.deps import HubDep
from goodthings.web.refusals import ApiProblem

router = APIRouter(prefix="/witness", tags=["witness"])


_NOT_A_WITNESS: dict[int | str, dict[str, object]] = {
    404: {"model": ApiProblem, "description": "This instance is not configured as a witness"}
}
_REFUSED: dict[int | str, dict[str, object]] = {
    **_NOT_A_WITNESS,
    409: {"model": ApiProblem, "description": "It would roll back or fork what is held"},
    422: {"model": ApiProblem, "description": "Its signature does not hold"},
}


class CheckpointIn(BaseModel):
    seq: int
    hash: str
    time: str
    signature: str
    key_id: str


def _peer(hub: Hub) -> Ed25519PublicKey:
    path = hub.home.settings.witness_peer_key
    if path is None:
        raise HTTPException(404, "this instance is not a witness (GOODTHINGS_WITNESS_PEER_KEY)")
    return load_public_key(path)


@router.post("/checkpoints", responses=_REFUSED)
async def take(checkpoint: CheckpointIn, hub: HubDep) -> dict[str, object]:
    peer = _peer(hub)
    changes = await run_in_threadpool(ledger.read_key_changes, hub.home.witnessed_keys_path)
    taken = await run_in_threadpool(
        ledger.accept,
        hub.home.witnessed_path,
        peer,
        ledger.Checkpoint(**checkpoint.model_dump()),
        changes,
    )
    if not taken.accepted:
        raise HTTPException(422 if taken.unsigned else 409, taken.reason)
    return {"accepted": checkpoint.seq, "newest_seq": taken.newest_seq}


@router.get("/checkpoints", responses=_NOT_A_WITNESS)
async def held(hub: HubDep) -> list[dict[str, object]]:
    _peer(hub)
    path = hub.home.witnessed_path
    if not path.exists():
        return []
    return [asdict(checkpoint) for checkpoint in await run_in_threadpool(ledger.read_witness, path)]


class KeyChangeIn(BaseModel):
    seq: int
    time: str
    old_public_key: str
    new_public_key: str
    old_signature: str
    new_signature: str


@router.post(
    "/keys",
    responses={
        **_NOT_A_WITNESS,
        422: {"model": ApiProblem, "description": "Not signed by the key before and after"},
    },
)
async def take_key_change(change: KeyChangeIn, hub: HubDep) -> dict[str, object]:
    peer = _peer(hub)
    problem = await run_in_threadpool(
        ledger.accept_key_change,
        hub.home.witnessed_keys_path,
        peer,
        ledger.KeyChange(**change.model_dump()),
    )
    if problem is not None:
        raise HTTPException(422, problem)
    return {"accepted": change.new_public_key}
