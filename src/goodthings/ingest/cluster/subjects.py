"""Where NATS keeps what devices publish over MQTT, and which device a stored message is from.

nats-server (2.9, Debian's) stores every QoS 1 MQTT publish in the JetStream stream
`$MQTT_msgs`, under the subject `$MQTT.msgs.` + the topic turned into a subject (`/` becomes
`.`; a topic with `.` or a space is refused at publish), and sends the PUBACK only once that
store is acknowledged: by a quorum of the stream's replicas in a cluster. The hub reads that
stream, so what it takes is exactly what the cluster acknowledged to devices.
"""

from __future__ import annotations

STREAM = "$MQTT_msgs"
"""The stream nats-server's MQTT support keeps QoS 1 messages in (created by the server)."""
PREFIX = "$MQTT.msgs."
HUB_FILTER = PREFIX + "gt.*.*"
"""Every `gt/<device>/<kind>` message: `up` and `birth` are taken, the rest acknowledged."""


def topic_of(subject: str) -> tuple[str, str] | None:
    """(device id, kind) of a stored `gt/<device>/<kind>` message, or None for anything else.

    Topics with empty levels become subjects with `/` in them (nats-server escapes those): none
    is a device's topic, so they come out as None too."""
    if not subject.startswith(PREFIX):
        return None
    parts = subject[len(PREFIX) :].split(".")
    if len(parts) != 3 or parts[0] != "gt" or not parts[1] or "/" in subject:
        return None
    return parts[1], parts[2]
