"""The automatic checks by id: the table the catalogue's `check:` fields name."""

from __future__ import annotations

from collections.abc import Mapping

from goodthings.assessment import (
    checks_consent,
    checks_lifecycle,
    checks_notices,
    checks_privacy,
    checks_security,
)
from goodthings.assessment.evidence import Check

CHECKS: Mapping[str, Check] = {
    "credentials.no-known-password": checks_security.no_known_password,
    "credentials.unique": checks_security.unique_credentials,
    "support.in-future": checks_security.support_declared,
    "disclosure.published": checks_security.disclosure_published,
    "ledger.verifies": checks_security.ledger_verifies,
    "at-rest.sealed": checks_privacy.sealed_at_rest,
    "retention.declared": checks_privacy.retention_declared,
    "retention.enforced": checks_privacy.retention_enforced,
    "erasure.on-time": checks_privacy.erasure_on_time,
    "consent.before-collection": checks_consent.consent_before_collection,
    "notices.readable": checks_notices.notices_readable,
    "disclosure.security-txt-fresh": checks_lifecycle.security_txt_fresh,
    "requests.on-time": checks_lifecycle.requests_on_time,
    "advisories.patched": checks_lifecycle.advisories_patched,
    "monitoring.on": checks_lifecycle.monitoring_on,
}
