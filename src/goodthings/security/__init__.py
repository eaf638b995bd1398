"""Device security: credentials and the password policy, lockouts, broker access control,
certificates, firmware and advisories, vulnerability disclosure (docs/device-security.md)."""
