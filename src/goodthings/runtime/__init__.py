"""The running hub: its parts wired once, its background jobs and its MQTT ingest service."""
