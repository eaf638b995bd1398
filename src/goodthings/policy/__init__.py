"""The gate: one engine for every decision about personal data."""
