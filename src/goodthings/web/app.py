"""The FastAPI application: pages for people, ingest for devices, the API for scripts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from goodthings import __version__
from goodthings.core.config import Home
from goodthings.core.store import read_catalogue
from goodthings.portal import plain_period, purpose_words, shown_moment, unit_words
from goodthings.rights.access import AccessError
from goodthings.runtime import Hub, MqttIngest
from goodthings.web import (
    access,
    api,
    assessment,
    console_assessment,
    console_dashboard,
    console_devices,
    console_ledger,
    console_login,
    console_more,
    console_requests,
    ingest,
    lean_ingest,
    metrics,
    notices,
    passersby,
    portal,
    security,
    witness,
)
from goodthings.web.api_docs import add_api_docs
from goodthings.web.refusals import Refused, answer_refused

_WEB = files("goodthings.web")
templates = Jinja2Templates(directory=str(_WEB / "templates"))
templates.env.filters["period"] = plain_period
templates.env.filters["timestamp"] = shown_moment
templates.env.filters["purpose"] = purpose_words
templates.env.filters["unit"] = unit_words
# The pages share base.html with the portal, which is translated; here it is shown in English.
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


def create_app(home: Home) -> FastAPI:
    """The hub's web application for the deployment in `home`.

    `serve` starts MQTT ingest itself (so that a broker problem is an ordinary error message)
    and leaves it in `app.state.mqtt`, to be stopped before the hub closes.
    """
    hub = Hub.open(home)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            mqtt: MqttIngest | None = app.state.mqtt
            if mqtt is not None:
                await run_in_threadpool(mqtt.stop)
            hub.close()

    app = FastAPI(
        title="goodthings",
        version=__version__,
        description="An IoT data hub where good practice is the default.",
        lifespan=lifespan,
        # Operation ids are what a generated client names its functions: the handler's name
        # (`ingest`, `readings`) rather than FastAPI's `ingest_ingest_post`.
        generate_unique_id_function=lambda route: route.name,
        docs_url=None,  # served from the package by `add_api_docs`, not from a CDN
        redoc_url=None,
    )
    app.state.hub = hub  # read through `web.deps.hub_of`, typed
    app.add_exception_handler(Refused, answer_refused)
    app.add_exception_handler(AccessError, access.answer_access_error)
    app.state.mqtt = None
    app.state.ingest = ingest.IngestEndpoint(hub)
    add_api_docs(app)  # before /static, which would shadow its files
    app.mount("/static", StaticFiles(directory=str(_WEB / "static")), name="static")
    app.include_router(ingest.router)
    # Devices' packs skip the application's routing and dependencies; the metrics, added
    # after, wrap both doors.
    app.add_middleware(lean_ingest.LeanIngest, route=_route(ingest.router, lean_ingest.PATH))
    app.add_middleware(metrics.RequestTimer, metrics=metrics.HttpMetrics(hub.metrics.registry))
    app.include_router(api.router)
    app.state.templates = templates
    app.include_router(security.router)
    app.include_router(console_login.router)
    for console_page in (
        console_dashboard,
        console_devices,
        console_requests,
        console_ledger,
        console_more,
        console_assessment,
    ):
        app.include_router(console_page.router)  # after security's /console/devices/new
    app.include_router(portal.router)
    app.include_router(notices.router)
    app.include_router(assessment.router)
    app.include_router(access.router)
    app.include_router(passersby.router)
    app.include_router(metrics.router)
    app.include_router(witness.router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home_page(request: Request) -> HTMLResponse:
        with hub.engine.connect() as connection:
            catalogue = read_catalogue(connection)
        return templates.TemplateResponse(request, "home.html", {"catalogue": catalogue})

    @app.get("/healthz", tags=["operations"])
    def health() -> dict[str, str]:
        """Liveness for load balancers and the demo: the database answers."""
        with hub.engine.connect() as connection:
            read_catalogue(connection)
        return {"status": "ok"}

    return app


def _route(router: APIRouter, path: str) -> APIRoute:
    """The router's route for `path` (there is one)."""
    (route,) = [r for r in router.routes if isinstance(r, APIRoute) and r.path == path]
    return route
