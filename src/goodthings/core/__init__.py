"""The foundation every layer stands on: errors, configuration, the manifest, the store, keys and
the ledger. Nothing here imports from the layers above.

Its face is its parts, imported by name (`from goodthings.core import ledger`); this module loads
none of them, so importing one part never loads the rest.
"""

__all__ = ["config", "errors", "keys", "ledger", "manifest", "store"]
