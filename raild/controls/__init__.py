"""Physical controls: buttons, a rotary encoder and a status LED on the rig's GPIO."""

from raild.controls.actions import ControlActions, Direction
from raild.controls.led import led_pattern
from raild.controls.panel import Controls

__all__ = ["ControlActions", "Controls", "Direction", "led_pattern"]
