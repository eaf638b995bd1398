"""The foundation every layer stands on: errors, configuration, the manifest, the store, keys and
the ledger. Nothing here imports from the layers above."""
