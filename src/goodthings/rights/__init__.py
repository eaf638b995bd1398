"""People's rights over their data: consent, receipts, application access, sharing, export,
erasure, retention, passers-by opt-outs, objections and sign-in to the portal, each a service
the web, the portal and the CLI call alike.

Its face is its parts, imported by name (`from goodthings.rights import erasure`); this module
loads none of them, so importing one right never loads the rest.
"""

__all__ = [
    "access",
    "consent",
    "erasure",
    "export",
    "ledger_about",
    "objections",
    "own_key",
    "own_reads",
    "passersby",
    "receipts",
    "retention",
    "sharing",
    "signin",
]
