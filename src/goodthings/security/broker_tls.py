"""How the hub's MQTT clients trust a broker's TLS certificate, and one clear answer when not.

By default the system's CAs are trusted. A broker whose certificate comes from a private CA
is trusted through that CA's certificate alone (`--mqtt-ca FILE`, `GOODTHINGS_MQTT_CA`). paho
retries a refused handshake in its own thread without saying why, so the hub checks the
broker's certificate once before it connects and turns a refusal into a `DeploymentError`.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from goodthings.core.errors import DeploymentError

CA_HINT = (
    "give the certificate of the CA that signed it with --mqtt-ca FILE (or GOODTHINGS_MQTT_CA)"
)


def broker_context(cafile: Path | None) -> ssl.SSLContext:
    """A client context trusting the system's CAs, or only the CAs in `cafile` when given."""
    if cafile is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(cafile))
    except ssl.SSLError:
        reason = "it holds no certificate"
    except OSError as error:
        reason = error.strerror or str(error)
    raise DeploymentError(
        f"the broker's CA {cafile}: not a readable PEM file of CA certificates ({reason})"
    )


def check_broker_certificate(
    host: str, port: int, context: ssl.SSLContext, timeout: float = 10.0
) -> None:
    """Raise DeploymentError when the broker at host:port shows a certificate `context` refuses.

    Any other failure (nothing listening, a timeout) is left to the MQTT client, which
    reports it and keeps retrying as it does for a broker that is down."""
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return
    except ssl.SSLCertVerificationError as error:
        raise DeploymentError(
            f"the broker's TLS certificate was refused ({error.verify_message}); {CA_HINT}"
        ) from None
    except OSError:
        return
