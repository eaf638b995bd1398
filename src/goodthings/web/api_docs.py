"""The API reference at `/docs`, served from the hub itself.

FastAPI's default page loads Swagger UI from a public CDN: blank on a hub without internet, and
a request to a third party from every visitor, which a privacy-first hub must not make. The
files come from the `fastapi-offline` package instead (Swagger UI 5, which reads the OpenAPI 3.1
that FastAPI writes; `swagger-ui-bundle` ships Swagger UI 4, which cannot). One reference is
enough, so `/redoc` is not offered.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

FILES = "/static/swagger-ui"


def add_api_docs(app: FastAPI) -> None:
    """Serve Swagger UI's files and the `/docs` page; the app must be made with `docs_url=None`."""
    bundled = files("fastapi_offline") / "static"
    app.mount(FILES, StaticFiles(directory=str(bundled)), name="swagger-ui")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title}: API reference",
            swagger_js_url=f"{FILES}/swagger-ui-bundle.js",
            swagger_css_url=f"{FILES}/swagger-ui.css",
            swagger_favicon_url=f"{FILES}/favicon.png",
        )
