"""Retention: purge readings past their stream's retention period, and record each purge."""

from goodthings.retention.service import Purge, purge_expired, run_periodically

__all__ = ["Purge", "purge_expired", "run_periodically"]
