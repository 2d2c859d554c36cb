"""The control inputs' pulls, set before the gpiozero factory connects.

pigpio's Python client learns pin levels from the bank read it makes when its
notification thread starts, and after that only from reports, which come when a
watched pin changes. A pull switched on later (gpiozero does it in each device's
constructor, before it watches the pin) moves the level unseen, so the first
press would read as "no change" and be lost: the e-stop's first press included.
Setting the pulls first, on the rig's own connection, means the factory starts
out knowing the idle levels.
"""

from __future__ import annotations

import pigpio

from raild.config import ButtonsConfig

INPUTS = ("estop", "stop", "start", "jog_plus", "jog_minus")


def prepare_inputs(pi: pigpio.pi, config: ButtonsConfig) -> None:
    """Blocking pigpio calls: the fitted buttons become inputs with their pulls."""
    button_pull = pigpio.PUD_UP if config.active_low else pigpio.PUD_DOWN
    pulls = [(getattr(config, name), button_pull) for name in INPUTS]
    pulls += [(config.encoder_a, pigpio.PUD_UP), (config.encoder_b, pigpio.PUD_UP)]  # gpiozero pulls encoders up
    for pin, pull in pulls:
        if pin:
            pi.set_mode(pin, pigpio.INPUT)
            pi.set_pull_up_down(pin, pull)
