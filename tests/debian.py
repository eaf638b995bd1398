"""Debian packages the tests need, installed when a fresh machine lacks them: a missing tool
must never turn a test into a skip that checks nothing.

The suite runs in several worker processes (pytest-xdist), and two of them may find the same
package missing at once: dpkg takes one installer at a time, so the installs queue on a lock
file, and whoever gets it second finds the package there and installs nothing.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

LOCK = Path("/tmp/goodthings-tests-apt.lock")


def apt_install(package: str) -> None:
    """`apt-get install`, refreshing the package lists once if the first try fails."""
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"the tests need Debian's `{package}` package and there is no apt-get")
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed(package):
            return
        install = ["apt-get", "install", "-y", "-q", package]
        if subprocess.run(install, check=False, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
            subprocess.run(install, check=True, capture_output=True)


def _installed(package: str) -> bool:
    status = subprocess.run(
        ["dpkg-query", "--show", "--showformat=${Status}", package],
        check=False,
        capture_output=True,
        text=True,
    )
    return status.stdout.strip() == "install ok installed"


def installed(command: str, package: str) -> str:
    """The path of `command`, installing `package` first when it is missing."""
    found = shutil.which(command)
    if found is None:
        apt_install(package)
        found = shutil.which(command)
    if found is None:
        raise RuntimeError(f"`apt-get install {package}` ran but `{command}` is still missing")
    return found
