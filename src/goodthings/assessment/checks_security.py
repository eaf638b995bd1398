"""Automatic checks of device security, over the live store: credentials, support periods,
vulnerability disclosure, the ledger."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from goodthings.assessment.evidence import Context, Evidence, Finding, Verdict
from goodthings.core import ledger
from goodthings.core.store import tables as t
from goodthings.security import (
    every_bundled_password,
    fingerprint,
    operator_spec,
    support_status,
)


def _live_password_fingerprints(connection: Connection, context: Context) -> list[tuple[str, str]]:
    """(device, fingerprint) of every password that works now on a current device."""
    tokens = t.device_tokens.c
    rows = connection.execute(
        select(tokens.device_id, tokens.fingerprint)
        .join(t.devices, t.devices.c.id == tokens.device_id)
        .where(
            t.devices.c.retired_at.is_(None),
            tokens.fingerprint.is_not(None),
            tokens.revoked_at.is_(None),
            (tokens.expires_at.is_(None)) | (tokens.expires_at > context.now),
        )
        .order_by(tokens.device_id)
    ).all()
    return [(str(device), str(print_)) for device, print_ in rows]


def no_known_password(context: Context) -> Finding:
    """No device accepts a password from the bundled default and breached lists."""
    with context.engine.connect() as connection:
        live = _live_password_fingerprints(connection, context)
    if not live:
        return Finding(
            "credentials.no-known-password",
            Verdict.not_applicable,
            "No device signs in with a password (tokens or certificates only).",
        )
    known: dict[str, str] = {}
    for refusal, password in every_bundled_password():
        known.setdefault(fingerprint(context.password_key, password), str(refusal))
    hits = sorted({device for device, print_ in live if print_ in known})
    lists = sorted({known[print_] for _device, print_ in live if print_ in known})
    evidence: Evidence = {
        "passwords_checked": len(live),
        "known_passwords_compared": len(known),
        "devices_with_known_password": tuple(hits),
        "lists_matched": tuple(lists),
    }
    if hits:
        return Finding(
            "credentials.no-known-password",
            Verdict.failed,
            f"{len(hits)} device(s) accept a password from a list of default or breached "
            f"passwords: {', '.join(hits)}.",
            evidence,
        )
    return Finding(
        "credentials.no-known-password",
        Verdict.passed,
        f"None of the {len(live)} device password(s) is on a default or breached list.",
        evidence,
    )


def unique_credentials(context: Context) -> Finding:
    """No two devices share a password (the same keyed fingerprint on both)."""
    with context.engine.connect() as connection:
        live = _live_password_fingerprints(connection, context)
        devices = connection.execute(
            select(t.devices.c.id).where(t.devices.c.retired_at.is_(None))
        ).all()
    if not devices:
        return Finding("credentials.unique", Verdict.not_applicable, "There are no devices.")
    holders: defaultdict[str, set[str]] = defaultdict(set)
    for device, print_ in live:
        holders[print_].add(device)
    shared = sorted({d for group in holders.values() if len(group) > 1 for d in group})
    evidence: Evidence = {
        "devices": len(devices),
        "passwords_checked": len(live),
        "devices_sharing_a_password": tuple(shared),
    }
    if shared:
        return Finding(
            "credentials.unique",
            Verdict.failed,
            f"{len(shared)} devices share a password with another device: {', '.join(shared)}.",
            evidence,
        )
    return Finding(
        "credentials.unique",
        Verdict.passed,
        f"Each of the {len(devices)} device(s) has its own credentials; no password is shared.",
        evidence,
    )


def support_declared(context: Context) -> Finding:
    """Every device in use belongs to a model whose declared support period has not ended."""
    with context.engine.connect() as connection:
        statuses = support_status(connection)
    if not statuses:
        return Finding("support.in-future", Verdict.not_applicable, "There are no devices.")
    today = context.now.date()
    ended = sorted({s.model for s in statuses if s.past_support(today)})
    models = sorted({s.model for s in statuses})
    evidence: Evidence = {
        "models_in_use": tuple(models),
        "devices": len(statuses),
        "models_past_support": tuple(ended),
        "earliest_end": min(s.support_until for s in statuses).isoformat(),
    }
    if ended:
        past = [s.device for s in statuses if s.past_support(today)]
        return Finding(
            "support.in-future",
            Verdict.failed,
            f"The support period of {', '.join(ended)} has ended; {len(past)} device(s) of it "
            "are still in use and get no security updates.",
            evidence,
        )
    return Finding(
        "support.in-future",
        Verdict.passed,
        f"All {len(models)} model(s) in use are supported until at least "
        f"{evidence['earliest_end']}.",
        evidence,
    )


def disclosure_published(context: Context) -> Finding:
    """The deployment publishes a way to report security problems (security.txt, RFC 9116)."""
    with context.engine.connect() as connection:
        spec = operator_spec(connection)
    disclosure = (spec or {}).get("vulnerability_disclosure") or {}
    missing = tuple(k for k in ("contact", "policy_url") if not disclosure.get(k))
    evidence: Evidence = {
        "operator_recorded": spec is not None,
        "missing": missing,
        "policy_url": str(disclosure.get("policy_url") or ""),
        "security_txt": "/.well-known/security.txt",
    }
    if spec is None or missing:
        return Finding(
            "disclosure.published",
            Verdict.failed,
            "No vulnerability disclosure policy is recorded"
            + (f" (missing: {', '.join(missing)})" if missing else "")
            + "; security.txt cannot say where to report problems.",
            evidence,
        )
    return Finding(
        "disclosure.published",
        Verdict.passed,
        "A disclosure contact and policy are recorded and served as /.well-known/security.txt.",
        evidence,
    )


def ledger_verifies(context: Context) -> Finding:
    """The ledger's chain, signed checkpoints and head agree: no entry was changed or cut."""
    result = ledger.check(context.engine, context.public_key)
    evidence: Evidence = {
        "entries": result.entries,
        "checkpoints": result.checkpoints,
        "last_checkpoint_seq": result.last_checkpoint_seq,
        "unsigned_tail": result.unsigned_tail,
        "first_bad_seq": result.first_bad_seq,
        "reason": result.reason,
    }
    if not result.ok:
        return Finding(
            "ledger.verifies",
            Verdict.failed,
            f"The ledger is not intact: {result.reason}",
            evidence,
        )
    return Finding(
        "ledger.verifies",
        Verdict.passed,
        f"The ledger is intact: {result.entries} entries, {result.checkpoints} signed checkpoints.",
        evidence,
    )
