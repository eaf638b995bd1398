"""Transparency: notices, printable signs, records of processing and inference disclosures, all
built from the manifest."""
