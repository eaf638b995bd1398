"""Key custody: the master key, the signing key, and (later) per-subject data keys."""
