"""goodthings: an IoT data hub where good practice is the default.

The packages are layers, each importing only from those below it (checked by `lint-imports`):
`cli` over `demo` and `bench`, over `web`, `portal`, `runtime`, `deployment`, the services
(`ingest`, `rights`, `security`), `transparency`, `policy` and `core`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
