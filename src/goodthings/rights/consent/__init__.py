"""Consent records: given, withdrawn, with the notice version they were made under."""
