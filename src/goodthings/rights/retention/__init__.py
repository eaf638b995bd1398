"""Retention: purge readings past their stream's retention period, and record each purge."""

from goodthings.rights.retention.purge import Purge, purge_expired

__all__ = ["Purge", "purge_expired"]
