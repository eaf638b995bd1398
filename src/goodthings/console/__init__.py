"""The operator's console, read side: what its pages show (the deployment at a glance, devices,
people's requests and their deadlines, the ledger), read from the store in one place so the web
pages and `goodthings requests list` tell the same story (docs/console.md).

It sits beside the people's portal: above the services it reads, below the web that shows it.
"""

from goodthings.console import dashboard, devices, ledger_browser, requests
from goodthings.console.charts import Bar, bar_chart

__all__ = ["Bar", "bar_chart", "dashboard", "devices", "ledger_browser", "requests"]
