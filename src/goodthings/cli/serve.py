"""`goodthings serve` and `goodthings demo`: run the hub, for real or on a throwaway deployment."""

from __future__ import annotations

import contextlib
import socket
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import httpx2
import typer
import uvicorn
from fastapi import FastAPI

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core.config import Home, resolve_home
from goodthings.core.errors import GoodthingsError
from goodthings.core.store import read_catalogue
from goodthings.deployment import init_deployment
from goodthings.rights.signin import issue_invite
from goodthings.runtime import BackgroundJobs, ClusterIngest, Hub, MqttIngest, hub_jobs, ingest_for
from goodthings.security import issue_token
from goodthings.web import create_app, hub_of

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

HostOption = Annotated[str, typer.Option(help="Address to listen on (127.0.0.1 keeps it local).")]
MqttOption = Annotated[
    str | None,
    typer.Option(
        "--mqtt",
        help="Broker devices publish to, mqtt://[user:password@]host:port or mqtts://…; "
        "without it (and without GOODTHINGS_MQTT_URL) the hub runs its own on 127.0.0.1.",
    ),
]
ClusterOption = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="A NATS JetStream broker cluster, nats://host:4222,host:4222,...: readings are "
        "pulled from it, and --mqtt lists its nodes' MQTT listeners (or GOODTHINGS_CLUSTER_URL).",
    ),
]
MqttCaOption = Annotated[
    Path | None,
    typer.Option(
        "--mqtt-ca",
        help="PEM file of the CA that signed the broker's certificate, for mqtts:// with a "
        "private CA (default: the system's CAs; or GOODTHINGS_MQTT_CA).",
    ),
]
MqttPortOption = Annotated[
    int | None,
    typer.Option(
        "--mqtt-port", min=0, max=65535, help="Port of the hub's own broker (default 1883)."
    ),
]
SharePortOption = Annotated[
    bool,
    typer.Option(
        "--share-port",
        help="Let several workers of this deployment, each with its own --worker, listen on "
        "the same --port: the system spreads the connections among them. Needs --mqtt or "
        "--cluster (the hub's own broker runs in one process).",
    ),
]
WorkerOption = Annotated[
    str | None,
    typer.Option(
        "--worker",
        help="This process's name when several serve the same deployment (default 1); "
        "give each its own.",
    ),
]


def serve(
    home: HomeOption = None,
    host: HostOption = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port for the web pages and the API.")
    ] = 8080,
    mqtt: MqttOption = None,
    mqtt_ca: MqttCaOption = None,
    mqtt_port: MqttPortOption = None,
    worker: WorkerOption = None,
    cluster: ClusterOption = None,
    share_port: SharePortOption = False,
) -> None:
    """Run the hub for a deployment: web pages, HTTP and MQTT ingest (stop with Ctrl-C)."""
    chosen = _with_settings(
        home_of(home),
        mqtt_url=mqtt,
        mqtt_port=mqtt_port,
        worker=worker,
        mqtt_ca=mqtt_ca,
        cluster_url=cluster,
    )
    if share_port and not (chosen.settings.mqtt_url or chosen.settings.cluster_url):
        raise GoodthingsError(
            "--share-port is for several workers, and the hub's own broker runs in one "
            "process: give every worker the same --mqtt (a broker such as Mosquitto) or --cluster"
        )
    # Bound here, before anything starts: a port taken is one line, not an error buried among
    # the broker's and the devices' once they run.
    listening = _shared_socket(host, port) if share_port else None
    if listening is None:
        _refuse_a_used_port(host, port)
    mismatch = address_mismatch(chosen.settings.public_url, port)
    if mismatch is not None:
        err.print(f"warning: {mismatch}", markup=False)
    _run(create_app(chosen), host, port, listening=listening)


def address_mismatch(public_url: str, port: int) -> str | None:
    """What is wrong when the deployment's public address is this machine on another port
    than the hub serves on: the links and QR codes it hands out would lead nowhere. A public
    address elsewhere (a reverse proxy, another name) is the operator's to know."""
    parts = urlsplit(public_url)
    if parts.hostname not in _LOOPBACK or port == 0:  # port 0: any free one, not known yet
        return None
    expected = parts.port or (443 if parts.scheme == "https" else 80)
    if expected == port:
        return None
    return (
        f"the deployment's public address is {public_url}, but the hub serves on port {port}: "
        "the links `subject invite` prints and the signs' QR codes would not reach it. Serve "
        f"with --port {expected}, or record the address with "
        f"`goodthings deployment set public-url http://127.0.0.1:{port}`"
    )


def demo(
    port: Annotated[
        int,
        typer.Option(
            min=0, max=65535, help="Port for the demo (0 picks a free one; 8080 if it is free)."
        ),
    ] = 0,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Keep the demo deployment in this directory instead of a temporary one."
        ),
    ] = None,
    withdraw_after: Annotated[
        float,
        typer.Option(help="Seconds before the demo withdraws one consent, to show the gate."),
    ] = 30.0,
    interval: Annotated[
        float, typer.Option(help="Seconds between readings from each simulated device.")
    ] = 2.0,
    attack_after: Annotated[
        float,
        typer.Option(
            help="Seconds before a Mirai-like bot attacks the broker and floods with a stolen "
            "device token, to show the monitor's quarantine (a negative number: no attack)."
        ),
    ] = 60.0,
) -> None:
    """Run the smart-home example with simulated devices, on a throwaway deployment."""
    if port:
        _refuse_a_used_port("127.0.0.1", port)
    chosen = port or _free_port(preferred=8080)
    if directory is not None:
        _demo_in(resolve_home(directory), chosen, withdraw_after, interval, attack_after)
        return
    with tempfile.TemporaryDirectory(prefix="goodthings-demo-") as tmp:
        _demo_in(
            resolve_home(Path(tmp) / "deployment"), chosen, withdraw_after, interval, attack_after
        )


def _demo_in(
    home: Home, port: int, withdraw_after: float, interval: float, attack_after: float
) -> None:
    # Here, not at the top: a `serve` worker has no use for the demo's simulators and bot.
    from goodthings.demo import (
        STOLEN_DEVICE,
        MiraiBot,
        Simulator,
        Story,
        Watch,
        console_link,
        devices_from,
        give_every_consent,
        guard_the_stolen_device,
    )

    # The demo always runs its own broker, on a free port, whatever the environment says.
    home = _with_settings(
        home, mqtt_url="", mqtt_port=0, cluster_url="", public_url=f"http://127.0.0.1:{port}"
    )
    init_deployment(home, "smart-home")
    if attack_after >= 0:
        guard_the_stolen_device(home)
    out.print(f"Demo deployment (smart-home example) in {home.root}")
    app = create_app(home)
    hub = hub_of(app)
    given = give_every_consent(hub)
    out.print(f"Demo: every resident gave the {len(given)} consents the deployment asks for.")
    with hub.engine.begin() as connection:
        catalogue = read_catalogue(connection)
        credentials = {
            device.id: issue_token(connection, device.id) for device in catalogue.devices
        }
    devices = devices_from(catalogue, credentials)
    out.print(f"  Alex's portal         {_demo_invite(hub)}  (the link works once)")
    out.print(f"  The console           {console_link(hub)}  (works once, for a day)")
    story = Story(hub, given, delay=withdraw_after, say=out.print)
    watch = Watch(hub, say=out.print)

    def started(mqtt: MqttIngest | ClusterIngest) -> Callable[[], None]:
        assert mqtt.address is not None
        simulator = Simulator(
            devices, mqtt.address.host, mqtt.address.port, interval=interval, say=out.print
        )
        simulator.start()
        story.start()
        watch.start()
        bot = None
        if attack_after >= 0 and STOLEN_DEVICE in credentials:
            bot = MiraiBot(
                mqtt.address.host,
                mqtt.address.port,
                stolen_device=STOLEN_DEVICE,
                stolen_credential=credentials[STOLEN_DEVICE],
                targets=sorted(credentials),
                delay=attack_after,
                say=out.print,
            )
            bot.start()

        def stop() -> None:
            if bot is not None:
                bot.stop()
            watch.stop()
            story.stop()
            simulator.stop()

        return stop

    _run(app, "127.0.0.1", port, then=started)
    out.print("Demo stopped.")


def _demo_invite(hub: Hub) -> str:
    """A sign-in link for the demo's resident, so the portal can be tried at once."""
    with hub.engine.begin() as connection:
        made = issue_invite(connection, "alex", hub.home.settings.public_url, timedelta(hours=24))
    return made.link


def _with_settings(
    home: Home,
    *,
    mqtt_url: str | None,
    mqtt_port: int | None,
    worker: str | None = None,
    mqtt_ca: Path | None = None,
    public_url: str | None = None,
    cluster_url: str | None = None,
) -> Home:
    """`home` with the command line's choices over the environment's (an empty URL: embedded)."""
    update: dict[str, object] = {}
    if mqtt_ca is not None:
        update["mqtt_ca"] = mqtt_ca
    if mqtt_url is not None:
        update["mqtt_url"] = mqtt_url or None
    if mqtt_port is not None:
        update["mqtt_port"] = mqtt_port
    if cluster_url is not None:
        update["cluster_url"] = cluster_url or None
    if worker is not None:
        update["worker"] = worker
    if public_url is not None:
        update["public_url"] = public_url
    return replace(home, settings=home.settings.model_copy(update=update))


def _run(
    app: FastAPI,
    host: str,
    port: int,
    then: Callable[[MqttIngest | ClusterIngest], Callable[[], None]] | None = None,
    *,
    listening: socket.socket | None = None,
) -> None:
    """Serve `app` until Ctrl-C; on `listening` (already bound, `--share-port`) if given."""
    hub = hub_of(app)
    mqtt = ingest_for(hub)
    try:
        mqtt.start()
    except BaseException:
        hub.close()
        raise
    app.state.mqtt = mqtt
    assert mqtt.address is not None
    stop_extra = then(mqtt) if then is not None else None
    base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    out.print(f"goodthings is running for {hub.home.root}")
    out.print(f"  Devices and streams   {base}/")
    out.print(f"  Notice for people     {base}/notice")
    out.print(f"  API reference         {base}/docs")
    out.print(f"  HTTP ingest           POST {base}/ingest")
    if isinstance(mqtt, ClusterIngest):
        broker = f"broker cluster {mqtt.display()}"
    else:
        broker = "the hub's own broker" if mqtt.embedded else "broker"
    out.print(f"  MQTT ingest           {mqtt.address.display()} ({broker}); topic gt/<device>/up")
    out.print(f"  People's portal       {base}/portal")
    out.print("Press Ctrl-C to stop.")
    try:
        with (
            httpx2.Client(timeout=10.0) as client,
            BackgroundJobs(hub_jobs(hub, client), hub.metrics),
        ):
            # httptools parses HTTP/1.1 in C, and uvloop ("auto" where it is installed) runs
            # the loop: the devices' /ingest path (docs/architecture.md, performance notes).
            config = uvicorn.Config(
                app, host=host, port=port, log_level="warning", http="httptools", access_log=False
            )
            server = uvicorn.Server(config)
            # Ctrl-C: uvicorn stops serving, then raises the signal again, for us to end quietly.
            with contextlib.suppress(KeyboardInterrupt):
                server.run(sockets=None if listening is None else [listening])
            if not server.started:
                raise GoodthingsError(
                    f"the web server could not start on {host}:{port} (its error is above)"
                )
    finally:
        if listening is not None:
            listening.close()
        if stop_extra is not None:
            stop_extra()
        mqtt.stop()


def _refuse_a_used_port(host: str, port: int) -> None:
    """Say so in one line before anything starts, rather than let the web server fail to bind
    after the broker and the devices have started and bury its error among theirs."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError:
            raise GoodthingsError(
                f"port {port} is in use; pass --port with another one (0 picks a free one)"
            ) from None


def _shared_socket(host: str, port: int) -> socket.socket:
    """The web server's socket, bound with SO_REUSEPORT, for uvicorn to listen on. Linux lets
    sockets that all set it (under the same user) bind one port, and spreads new connections
    among them by a hash of the client's address and port; a port held by any other socket
    is refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    shared = socket.socket(family, socket.SOCK_STREAM)
    shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        shared.bind((host, port))
    except OSError:
        shared.close()
        raise GoodthingsError(
            f"port {port} is in use by a program that does not share it (only workers "
            "started with --share-port can); pass --port with another one"
        ) from None
    return shared


def _free_port(preferred: int) -> int:
    for candidate in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")
