"""The probe's run: every host in scope, every known service, a bounded number of tries each."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from goodthings.assessment.probe.results import Finding, ProbeReport
from goodthings.assessment.probe.scope import Scope
from goodthings.assessment.probe.services import SERVICES, Service, port_open
from goodthings.security import Refusal, bundled_list

_LIST_NAMES = {
    Refusal.mirai: "the Mirai botnet's list",
    Refusal.iot_default: "the IoT defaults list",
}


@dataclass(frozen=True)
class Bounds:
    """How far the probe may go: what keeps an audit from becoming an attack."""

    attempts: int = 10
    """Username and password pairs tried per service, most common first."""
    timeout: float = 3.0
    """Seconds for each connection or answer."""
    deadline: float = 300.0
    """Seconds for the whole run; hosts not reached by then are reported as not probed."""
    parallel: int = 16
    """Hosts probed at once."""


@dataclass
class _Tally:
    attempts: int = 0
    services: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    probed: int = 0


def credentials(attempts: int) -> list[tuple[str, str, str]]:
    """(username, password, list) from the bundled lists, in their order, without repeats."""
    seen: set[tuple[str, str]] = set()
    pairs = []
    for refusal in (Refusal.mirai, Refusal.iot_default):
        for user, password in bundled_list(refusal):
            if (user, password) not in seen:
                seen.add((user, password))
                pairs.append((user, password, _LIST_NAMES[refusal]))
    return pairs[:attempts]


def run_probe(scope: Scope, bounds: Bounds = Bounds()) -> ProbeReport:
    started = datetime.now(UTC)
    tally = _Tally()
    stopped_early = asyncio.run(_probe_all(scope, bounds, tally))
    return ProbeReport(
        started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        authorised_by=scope.authorised_by,
        targets=tuple(str(network) for network in scope.networks),
        hosts_probed=tally.probed,
        services_found=tuple(sorted(tally.services)),
        attempts=tally.attempts,
        findings=tuple(sorted(tally.findings, key=lambda f: (f.address, f.port, f.kind))),
        stopped_early=stopped_early,
    )


async def _probe_all(scope: Scope, bounds: Bounds, tally: _Tally) -> bool:
    gate = asyncio.Semaphore(bounds.parallel)
    pairs = credentials(bounds.attempts)

    async def one(address: str) -> None:
        async with gate:
            await _probe_host(address, pairs, bounds, tally)
            tally.probed += 1

    tasks = [asyncio.create_task(one(address)) for address in scope.hosts()]
    if not tasks:
        return False
    _, pending = await asyncio.wait(tasks, timeout=bounds.deadline)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return bool(pending)


async def _probe_host(
    address: str, pairs: list[tuple[str, str, str]], bounds: Bounds, tally: _Tally
) -> None:
    for service in SERVICES:
        for port in service.ports:
            if await port_open(address, port, bounds.timeout):
                tally.services.append(f"{address}:{port} {service.name}")
                await _try_logins(address, port, service, pairs, bounds, tally)


async def _try_logins(
    address: str,
    port: int,
    service: Service,
    pairs: list[tuple[str, str, str]],
    bounds: Bounds,
    tally: _Tally,
) -> None:
    tries = ([("", "", "no password at all")] if service.name == "mqtt" else []) + pairs
    for user, password, source in tries[: max(bounds.attempts, 1)]:
        tally.attempts += 1
        if await service.login(address, port, user, password, bounds.timeout):
            detail = (
                f"{service.name} lets the username {user!r} in with a password from {source}"
                if user
                else f"{service.name} lets anyone in without a password"
            )
            tally.findings.append(
                Finding(
                    address,
                    port,
                    service.name,
                    "default-login",
                    detail,
                )
            )
            if service.cleartext:
                tally.findings.append(_cleartext(address, port, service))
            return
    if service.name == "telnet":
        tally.findings.append(_cleartext(address, port, service))


def _cleartext(address: str, port: int, service: Service) -> Finding:
    return Finding(
        address,
        port,
        service.name,
        "cleartext",
        f"{service.name} on port {port} sends passwords unencrypted, readable by anyone on "
        "the network",
    )
