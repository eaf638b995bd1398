"""The FastAPI application: pages for people, and (later) the REST API for devices and apps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from goodthings import __version__
from goodthings.config import Home
from goodthings.deployment import open_store
from goodthings.store.catalogue import read_catalogue

_WEB = files("goodthings.web")
templates = Jinja2Templates(directory=str(_WEB / "templates"))


def create_app(home: Home) -> FastAPI:
    """The hub's web application for the deployment in `home`."""
    engine = open_store(home)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="goodthings",
        version=__version__,
        description="An IoT data hub where good practice is the default.",
        lifespan=lifespan,
    )
    app.mount("/static", StaticFiles(directory=str(_WEB / "static")), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home_page(request: Request) -> HTMLResponse:
        with engine.connect() as connection:
            catalogue = read_catalogue(connection)
        return templates.TemplateResponse(request, "home.html", {"catalogue": catalogue})

    @app.get("/healthz", tags=["operations"])
    def health() -> dict[str, str]:
        """Liveness for load balancers and the demo: the database answers."""
        with engine.connect() as connection:
            read_catalogue(connection)
        return {"status": "ok"}

    return app
