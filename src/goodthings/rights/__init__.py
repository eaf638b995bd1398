"""People's rights over their data: consent, receipts, application access, sharing, export,
erasure, retention, passers-by opt-outs and objections."""
