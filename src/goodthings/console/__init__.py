"""The operator's console, read side: what its pages show (the deployment at a glance, devices,
streams and consent in aggregate, applications, people's requests and their deadlines, the
ledger, the manifest's versions), read from the store in one place so the web pages and
`goodthings requests list` tell the same story (docs/console.md).

It sits beside the people's portal: above the services it reads, below the web that shows it.
"""

from goodthings.console import (
    applications,
    dashboard,
    devices,
    ledger_browser,
    manifest_versions,
    requests,
    streams,
)
from goodthings.console.charts import Bar, bar_chart

__all__ = [
    "Bar",
    "applications",
    "bar_chart",
    "dashboard",
    "devices",
    "ledger_browser",
    "manifest_versions",
    "requests",
    "streams",
]
