"""The ledger's position in every receipt: the seq and hash of its newest entry at issue.

A receipt is signed and kept by the person, out of the operator's reach, so the position it
carries is evidence the operator cannot take back: `goodthings ledger verify --receipts DIR`
checks that the ledger still holds that entry with that hash, and is no shorter. A receipt
issued before receipts carried a position is valid but anchors nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection

from goodthings.core import ledger
from goodthings.rights.receipts.signing import ReceiptError, verify


def position(connection: Connection) -> dict[str, object]:
    """The `ledger` field of a receipt issued in `connection`'s transaction."""
    head = ledger.head(connection)
    return {"seq": head.seq, "hash": head.hash}


@dataclass(frozen=True)
class ReceiptAnchors:
    anchors: list[ledger.Anchor]
    without_position: list[str]
    """Receipts that verify but carry no ledger position (issued by an older version)."""


def read_anchors(
    directory: Path, public_key: Ed25519PublicKey, history: Sequence[Ed25519PublicKey] = ()
) -> ReceiptAnchors:
    """The ledger position of every receipt (`*.json`, in any folder below `directory`).

    Each must verify with the hub's published key: a receipt that does not is refused rather
    than skipped, since the person should learn that what they kept is not what it claims.
    """
    if not directory.is_dir():
        raise ReceiptError(f"{directory} is not a folder of receipts")
    anchors: list[ledger.Anchor] = []
    without: list[str] = []
    for path in sorted(directory.rglob("*.json")):
        name = path.relative_to(directory).as_posix()
        try:
            checked = verify(path.read_bytes(), public_key, history=history)
        except ReceiptError as exc:
            raise ReceiptError(f"receipt {name}: {exc}") from None
        where = checked.receipt.get("ledger")
        if where is None:
            without.append(name)
            continue
        if (
            not isinstance(where, dict)
            or not isinstance(where.get("seq"), int)
            or not isinstance(where.get("hash"), str)
        ):
            raise ReceiptError(f"receipt {name}: its 'ledger' field is not a seq and a hash")
        anchors.append(ledger.Anchor(where["seq"], where["hash"], f"receipt {name}"))
    return ReceiptAnchors(anchors, without)
