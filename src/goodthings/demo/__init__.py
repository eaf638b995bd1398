"""The demo: simulated devices that send realistic readings and obey their policy, and a story of
people changing their minds, a Mirai-like attack the monitor stops, so `goodthings demo` shows every right working on live data."""

from goodthings.demo.attack import STOLEN_DEVICE, MiraiBot, Watch, guard_the_stolen_device
from goodthings.demo.simulator import Simulator, devices_from
from goodthings.demo.story import Story, console_link, give_every_consent
from goodthings.demo.values import StreamShape, shape_for

__all__ = [
    "STOLEN_DEVICE",
    "MiraiBot",
    "Simulator",
    "Story",
    "StreamShape",
    "Watch",
    "console_link",
    "devices_from",
    "give_every_consent",
    "guard_the_stolen_device",
    "shape_for",
]
