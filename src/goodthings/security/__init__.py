"""Device security: credentials and the password policy, lockouts, broker access control,
certificates, firmware and advisories, vulnerability disclosure, the console's
operator accounts and sessions (docs/device-security.md), so a
device earns its access and the operator sees the fleet's weak spots.

Names that only make sense beside their module stay there, imported from it
(`goodthings.security.lockout.Scope`, `goodthings.security.disclosure.MAX_SUMMARY`).
"""

from goodthings.security import console_sessions, operators
from goodthings.security.advisories import (
    AdvisoryError,
    affected_devices,
    in_range,
    list_advisories,
    read_advisory,
    read_sbom,
    store_advisories,
    store_advisory,
    store_components,
)
from goodthings.security.amqtt_access import BrokerAccess, plugins_config
from goodthings.security.argon2_slots import Argon2Slots, Busy
from goodthings.security.broker_acl import (
    BrokerAclError,
    DynamicSecurity,
    admin_session,
    new_hub_password,
    revoke_retired,
)
from goodthings.security.certificates import (
    issue_device_certificate,
    issue_server_certificate,
    write_bundle,
)
from goodthings.security.console_sessions import ConsoleSession
from goodthings.security.credentials import (
    CredentialKind,
    Issued,
    PasswordRefused,
    fingerprint_key,
    issue_token,
    judge_password,
    record_refusal,
    revoke_all,
    set_password,
)
from goodthings.security.disclosure import (
    ReportError,
    ReportState,
    operator_spec,
    submit_report,
    triage,
)
from goodthings.security.firmware import (
    BirthError,
    Campaign,
    campaigns,
    parse_birth,
    record_birth,
    start_campaign,
    support_status,
)
from goodthings.security.fleet import fleet_security
from goodthings.security.lockout import LockEvent, Lockout, record_lockouts
from goodthings.security.operators import Account, OperatorError, Role
from goodthings.security.passwords import (
    Refusal,
    bundled_list,
    check_password,
    every_bundled_password,
    fingerprint,
)
from goodthings.security.tokens import Authentication, TokenVerifier

__all__ = [
    "Account",
    "AdvisoryError",
    "Argon2Slots",
    "Authentication",
    "BirthError",
    "BrokerAccess",
    "BrokerAclError",
    "Busy",
    "Campaign",
    "ConsoleSession",
    "CredentialKind",
    "DynamicSecurity",
    "Issued",
    "LockEvent",
    "Lockout",
    "OperatorError",
    "PasswordRefused",
    "Refusal",
    "ReportError",
    "ReportState",
    "Role",
    "TokenVerifier",
    "admin_session",
    "affected_devices",
    "bundled_list",
    "campaigns",
    "check_password",
    "console_sessions",
    "every_bundled_password",
    "fingerprint",
    "fingerprint_key",
    "fleet_security",
    "in_range",
    "issue_device_certificate",
    "issue_server_certificate",
    "issue_token",
    "judge_password",
    "list_advisories",
    "new_hub_password",
    "operator_spec",
    "operators",
    "parse_birth",
    "plugins_config",
    "read_advisory",
    "read_sbom",
    "record_birth",
    "record_lockouts",
    "record_refusal",
    "revoke_all",
    "revoke_retired",
    "set_password",
    "start_campaign",
    "store_advisories",
    "store_advisory",
    "store_components",
    "submit_report",
    "support_status",
    "triage",
    "write_bundle",
]
