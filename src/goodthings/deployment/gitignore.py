"""Keep a deployment's secrets out of version control when it is created inside a git checkout.

Operators keep manifests in git, which is right; but the keys (the master key unwraps every
person's data key, the signing key vouches for the ledger) and the database (people's readings)
must never be committed. Inside a checkout, `init` writes a `.gitignore` that leaves them out.
"""

from __future__ import annotations

from pathlib import Path

from goodthings.core.config import Home

__all__ = ["IGNORED", "checkout_of", "ignore_secrets"]

IGNORED = ("keys/", "settings.env", "goodthings.db", "goodthings.db-*")
"""Keys, the settings (a database URL may carry a password), and the default SQLite files."""


def checkout_of(directory: Path) -> Path | None:
    """The git work tree holding `directory`, if any (`.git` is a folder, or a file in a worktree)."""
    for candidate in (directory.resolve(), *directory.resolve().parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def ignore_secrets(home: Home) -> Path:
    """Add the secret paths to the deployment's `.gitignore`, keeping what is there already."""
    path = home.root / ".gitignore"
    present = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    missing = [entry for entry in IGNORED if entry not in present]
    if missing:
        lines = [
            *present,
            "# goodthings: keys, settings and the database never go into git",
            *missing,
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
