"""`[buttons]` validation: pins like the others (range, never twice, not a [pins]
pin), an encoder needs both pins, strict types, and the example documents it."""

from __future__ import annotations

from pathlib import Path

import pytest

from raild.config import Config, ConfigError, load_config


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "raild.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.problems


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("[buttons]\nestop = 20\n", "buttons.estop", "already used by pins.step"),
        ("[buttons]\nled = 5\n", "buttons.led", "already used by pins.limit_min"),
        ("[pins]\nfocus = 17\n[buttons]\nstart = 17\n", "buttons.start", "already used by pins.focus"),
        ("[buttons]\nestop = 17\nstop = 17\n", "buttons.stop", "already used by buttons.estop"),
        ("[buttons]\njog_plus = 1\n", "buttons.jog_plus", "BCM 2-27 or 0 (not fitted)"),
        ("[buttons]\nencoder_a = 28\nencoder_b = 19\n", "buttons.encoder_a", "BCM 2-27"),
        ("[buttons]\nencoder_a = 19\n", "buttons.encoder_b", "needs both encoder_a and encoder_b"),
        ("[buttons]\nestop = '17'\n", "buttons.estop", "valid integer"),
        ("[buttons]\nactive_low = 1\n", "buttons.active_low", "valid boolean"),
        ("[buttons]\nbounce_ms = 301\n", "buttons.bounce_ms", "less than or equal to 300"),
        ("[buttons]\njog_step_um = 0\n", "buttons.jog_step_um", "greater than 0"),
        ("[buttons]\njog_step_um = nan\n", "buttons.jog_step_um", "finite"),
        ("[buttons]\nreset = 4\n", "buttons.reset", "unknown key"),
    ],
)
def test_bad_buttons_name_the_key_and_rule(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    problems = _problems(tmp_path, text)
    matching = [p for p in problems if f": {key}: " in p]
    assert matching, problems
    assert fragment in matching[0], matching[0]


def test_a_pin_freed_in_pins_may_serve_a_button(tmp_path: Path) -> None:
    path = tmp_path / "raild.toml"
    path.write_text("[pins]\nfocus = 0\n[buttons]\nestop = 24\nencoder_a = 19\nencoder_b = 26\nled = 25\n")
    buttons = load_config(path).buttons
    assert buttons.fitted() == {"estop": 24, "encoder_a": 19, "encoder_b": 26, "led": 25}


def test_no_buttons_by_default_and_the_example_matches(example_config: Path) -> None:
    assert Config().buttons.fitted() == {}
    assert load_config(example_config).buttons == Config().buttons
    assert "[buttons]" in example_config.read_text()


def test_raild_check_looks_at_the_button_pins_too(tmp_path: Path) -> None:
    from raild.check import check_pins

    boot = tmp_path / "config.txt"
    boot.write_text("dtparam=spi=on\n")
    config = Config().with_overrides(buttons={"estop": 8, "led": 25})
    findings = check_pins(config, None, boot)
    assert [f.level for f in findings] == ["fail"], findings
    assert "buttons.estop" in findings[0].line()
