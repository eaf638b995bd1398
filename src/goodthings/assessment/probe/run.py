"""The probe's run: every host in scope, every known service, a bounded number of tries each."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from goodthings.assessment.probe.results import Finding, ProbeReport
from goodthings.assessment.probe.scope import Scope, ScopeError
from goodthings.assessment.probe.services import SERVICES, Service, port_open
from goodthings.assessment.probe.usage import COMMON_PORTS, DeclaredUsage
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
    ports: tuple[int, ...] = COMMON_PORTS
    """TCP ports looked at, besides the services' own, on a device whose declared usage is
    known: each open one the usage does not name is a finding."""


@dataclass
class _Tally:
    attempts: int = 0
    services: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    probed: int = 0
    usage_checked: list[str] = field(default_factory=list)


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


def run_probe(
    scope: Scope, bounds: Bounds = Bounds(), usage: Mapping[str, DeclaredUsage] | None = None
) -> ProbeReport:
    """Probe every host in scope; `usage` (by address) is each known device's declared usage,
    against which its open ports are compared."""
    declared = dict(usage or {})
    outside = sorted(address for address in declared if not scope.allows(address))
    if outside:
        raise ScopeError(
            f"--device names {', '.join(outside)}, outside the ranges given: add it to --targets"
        )
    started = datetime.now(UTC)
    tally = _Tally()
    stopped_early = asyncio.run(_probe_all(scope, bounds, tally, declared))
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
        usage_checked=tuple(
            declared[address].in_words(address) for address in sorted(tally.usage_checked)
        ),
    )


async def _probe_all(
    scope: Scope, bounds: Bounds, tally: _Tally, usage: Mapping[str, DeclaredUsage]
) -> bool:
    gate = asyncio.Semaphore(bounds.parallel)
    pairs = credentials(bounds.attempts)

    async def one(address: str) -> None:
        async with gate:
            await _probe_host(address, pairs, bounds, tally)
            if address in usage:
                await _compare_usage(address, usage[address], bounds, tally)
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


async def _compare_usage(address: str, usage: DeclaredUsage, bounds: Bounds, tally: _Tally) -> None:
    """Every port looked at that is open and not named by the device's declared usage."""
    service_ports = {port: service.name for service in SERVICES for port in service.ports}
    for port in sorted(set(bounds.ports) | set(service_ports)):
        if usage.allows(port) or not await port_open(address, port, bounds.timeout):
            continue
        name = service_ports.get(port, "tcp")
        tally.findings.append(
            Finding(
                address,
                port,
                name,
                "undeclared-port",
                f"port {port} is open, but the usage declared for {usage.source} (its MUD "
                "file) names no such port: an interface nobody uses should be switched off",
            )
        )
    tally.usage_checked.append(address)


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
