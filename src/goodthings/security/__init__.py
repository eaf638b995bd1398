"""Device security: credentials and (later) password policy, certificates, broker ACLs."""
