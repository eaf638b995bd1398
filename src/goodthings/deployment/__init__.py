"""The deployment as a whole: its directory (manifest, database, keys), applying the manifest to
the store, and onboarding a device."""
