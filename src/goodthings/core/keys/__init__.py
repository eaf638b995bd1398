"""Key custody: the deployment's key files, each person's data key, and keys people hold
themselves, so readings stay sealed at rest and erasure can be a key's destruction."""

from goodthings.core.keys.datakeys import (
    Keyring,
    Sealer,
    UnreadableError,
    Value,
    context_at,
    decode_value,
    encode_value,
    open_sealed,
    row_context,
    row_prefix,
)
from goodthings.core.keys.files import (
    SIGNING_PUBLIC_KEY,
    create_keys,
    load_master_key,
    load_operator_token,
    load_public_key,
    load_signing_key,
    read_secret,
    write_secret,
)
from goodthings.core.keys.held import (
    HeldKeyError,
    hold_own_key,
    open_export,
    store_sealed_batch_keys,
    write_opened,
)
from goodthings.core.keys.masters import SecretRoot, load_secret_root
from goodthings.core.keys.moved import journal_older_erasures, move_keys_out
from goodthings.core.keys.opener import UNREADABLE, Opened, ReadingOpener, Unreadable
from goodthings.core.keys.rotation import Rotation, rotate_master
from goodthings.core.keys.signing import SigningRotation, catch_up, rotate_signing
from goodthings.core.keys.vault import Erased, KeyVault, fingerprint

__all__ = [
    "SIGNING_PUBLIC_KEY",
    "UNREADABLE",
    "Erased",
    "HeldKeyError",
    "KeyVault",
    "Keyring",
    "Opened",
    "ReadingOpener",
    "Rotation",
    "Sealer",
    "SecretRoot",
    "SigningRotation",
    "Unreadable",
    "UnreadableError",
    "Value",
    "catch_up",
    "context_at",
    "create_keys",
    "decode_value",
    "encode_value",
    "fingerprint",
    "hold_own_key",
    "journal_older_erasures",
    "load_master_key",
    "load_operator_token",
    "load_public_key",
    "load_secret_root",
    "load_signing_key",
    "move_keys_out",
    "open_export",
    "open_sealed",
    "read_secret",
    "rotate_master",
    "rotate_signing",
    "row_context",
    "row_prefix",
    "store_sealed_batch_keys",
    "write_opened",
    "write_secret",
]
