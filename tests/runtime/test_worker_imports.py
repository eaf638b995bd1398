"""A `serve` worker loads what serving needs, not what a page or command may need once.

Measured under the bench's load (issue 18), a worker's peak memory had grown to 325 MiB, a third
of it libraries that only the assessment's PDF and readability check, password setting, SBOM
reading, PostgreSQL on a SQLite hub, migrations and the demo use. They load on first use now; this keeps
them out of a worker that has served requests, and the pages that use them are tested where
they are (tests/web, tests/console, tests/assessment).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hubs import clean_environment

NOT_AT_START = (
    "fpdf",  # the assessment's and the signs' PDFs (~35 MiB with fontTools and Pillow)
    "textstat",  # the notices' readability grade, with NLTK (~17 MiB)
    "nltk",
    "zxcvbn",  # a password's strength, when one is set (~12 MiB)
    "psycopg",  # PostgreSQL's driver, on a SQLite hub (~9 MiB)
    "cyclonedx",  # SBOM readers, when an SBOM is read
    "spdx_tools",
    "beartype",
    "alembic",  # migrations, when the schema is behind (~10 MiB with Mako and Pygments)
    "mako",
    "goodthings.demo",  # the demo's simulators and bot
)

_PROBE = """
import json, sys
from pathlib import Path
from goodthings.cli.serve import serve
from goodthings.core.config import resolve_home
from goodthings.web import create_app
from fastapi.testclient import TestClient
app = create_app(resolve_home(Path(sys.argv[1])))
with TestClient(app) as client:
    for path in ("/healthz", "/", "/notice", "/portal", "/console/sign-in"):
        client.get(path)
print(json.dumps(sorted(sys.modules)))
"""


def test_a_worker_that_served_its_pages_has_not_loaded_what_it_does_not_need(
    tmp_path: Path,
) -> None:
    from goodthings.core.config import Home
    from goodthings.deployment import init_deployment

    init_deployment(Home(tmp_path), "smart-home")
    ran = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    loaded = set(json.loads(ran.stdout.splitlines()[-1]))
    assert "goodthings.web.app" in loaded and "sqlalchemy" in loaded, "the probe served"
    unexpected = {name for name in NOT_AT_START if name in loaded}
    assert not unexpected, f"a worker loaded {sorted(unexpected)} before any page needed it"
