"""Parsing what a grbl 1.1 or grblHAL board says (pure)."""

from __future__ import annotations

import pytest

from raild.drives.grbl import messages as m


def test_status_reports() -> None:
    st = m.parse_line("<Hold:0|MPos:-12.345,0.000,1.500|Bf:15,128|FS:0,0|Pn:XZ|WCO:0.000,0.000,0.000>")
    assert st == m.Status("Hold", 0, (-12.345, 0.0, 1.5), None, 0.0, "XZ")
    hal = m.parse_line("<Run|MPos:1.000,2.000,3.000|F:600|Ov:100,100,100|A:F>")  # grblHAL-style extra fields
    assert isinstance(hal, m.Status) and hal.state == "Run" and hal.feed == 600.0
    wpos = m.parse_line("<Idle|WPos:1.000,2.000,3.000|FS:0,0>")
    assert isinstance(wpos, m.Status) and wpos.mpos is None and wpos.wpos == (1.0, 2.0, 3.0)


@pytest.mark.parametrize(
    "line",
    ["<Idle|MPos:1.0", "<Bogus|MPos:0,0,0>", "<Idle|MPos:a,b,c|FS:0,0>", "<Idle|FS:0,0>", "<Hold:x|MPos:0,0,0>"],
)
def test_broken_reports_are_unknown(line: str) -> None:
    assert m.parse_line(line) == m.Unknown(line)


def test_other_lines() -> None:
    assert m.parse_line("ok") == m.Ok()
    assert m.parse_line("error:22") == m.Error(22)
    assert m.parse_line("ALARM:1") == m.Alarm(1)
    assert m.parse_line("Grbl 1.1h ['$' for help]") == m.Banner("1.1h")
    assert m.parse_line("GrblHAL 1.1f ['$' or '$HELP' for help]") == m.Banner("1.1f")
    assert m.parse_line("[MSG:Reset to continue]") == m.Msg("Reset to continue")
    gc = "GC:G0 G54 G17 G21 G90 G94 M5 M9 T0 F0 S0"
    assert m.parse_line(f"[{gc}]") == m.Feedback(gc)
    assert m.parse_line("$110=180.000") == m.Setting(110, 180.0)
    assert m.parse_line("Marlin 2.1 start") == m.Unknown("Marlin 2.1 start")
    assert m.parse_line("error:x") == m.Unknown("error:x")
