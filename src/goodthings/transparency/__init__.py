"""Transparency: notices, printable signs, records of processing and inference disclosures, all
built from the manifest, so what people are told is what the hub is configured to do.

Its face is its parts, imported by name (`from goodthings.transparency import notices`); this
module loads none of them.
"""

__all__ = ["inference", "notices", "pdf", "reports", "signs"]
