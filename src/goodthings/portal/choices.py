"""A person's choices as the portal offers them, all through the consent service's one path."""

from goodthings.rights.consent.withdraw_all import stop_everything

__all__ = ["stop_everything"]
