"""Debian packages the tests need, installed when a fresh machine lacks them: a missing tool
must never turn a test into a skip that checks nothing."""

from __future__ import annotations

import shutil
import subprocess


def apt_install(package: str) -> None:
    """`apt-get install`, refreshing the package lists once if the first try fails."""
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"the tests need Debian's `{package}` package and there is no apt-get")
    install = ["apt-get", "install", "-y", "-q", package]
    if subprocess.run(install, check=False, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(install, check=True, capture_output=True)


def installed(command: str, package: str) -> str:
    """The path of `command`, installing `package` first when it is missing."""
    found = shutil.which(command)
    if found is None:
        apt_install(package)
        found = shutil.which(command)
    if found is None:
        raise RuntimeError(f"`apt-get install {package}` ran but `{command}` is still missing")
    return found
