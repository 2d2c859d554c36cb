"""The socket protocol and GPIO commands, through the real pigpio client."""

from __future__ import annotations

import itertools
import socket
import struct
import threading
import time

import pigpio
import pytest

from raild.sim import SimRig
from raild.sim import protocol as p
from raild.sim.testing import pigpio_client, running_rig
from tests.sim.conftest import raw_command, wait_until


def raises_code(code: int):
    """pigpio.error carries only the text; the text identifies the code uniquely."""
    return pytest.raises(pigpio.error, match=pigpio.error_text(code))


def test_identity_and_tick(pi: pigpio.pi) -> None:
    assert pi.connected
    assert pi.get_hardware_revision() == 0xC03112
    assert pi.get_pigpio_version() == 79
    t1 = pi.get_current_tick()
    time.sleep(0.02)
    t2 = pi.get_current_tick()
    assert 15_000 <= (t2 - t1) % 2**32 <= 5_000_000


def test_modes_pulls_read_write(pi: pigpio.pi, rig: SimRig) -> None:
    assert pi.get_mode(17) == pigpio.INPUT
    pi.set_mode(17, pigpio.OUTPUT)
    assert pi.get_mode(17) == pigpio.OUTPUT
    pi.write(17, 1)
    assert pi.read(17) == 1 and rig.level(17) == 1
    pi.write(17, 0)
    assert pi.read(17) == 0
    # Power-on pulls: GPIO 0-8 up, 9-27 down; an input follows the pull the client sets.
    assert pi.read(7) == 1 and pi.read(22) == 0
    pi.set_pull_up_down(22, pigpio.PUD_UP)
    assert pi.read(22) == 1
    pi.set_pull_up_down(22, pigpio.PUD_OFF)
    assert pi.read(22) == 1  # floating keeps its last level
    pi.set_mode(18, pigpio.ALT5)
    assert pi.get_mode(18) == pigpio.ALT5


def test_write_makes_the_pin_an_output(pi: pigpio.pi) -> None:
    assert pi.get_mode(12) == pigpio.INPUT
    pi.write(12, 1)
    assert pi.get_mode(12) == pigpio.OUTPUT


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda pi: pi.set_mode(54, 0), p.PI_BAD_GPIO),
        (lambda pi: pi.set_mode(4, 8), p.PI_BAD_MODE),
        (lambda pi: pi.set_mode(0, 1), p.PI_NOT_PERMITTED),
        (lambda pi: pi.get_mode(60), p.PI_BAD_GPIO),
        (lambda pi: pi.read(54), p.PI_BAD_GPIO),
        (lambda pi: pi.write(4, 2), p.PI_BAD_LEVEL),
        (lambda pi: pi.write(1, 1), p.PI_NOT_PERMITTED),
        (lambda pi: pi.set_pull_up_down(4, 3), p.PI_BAD_PUD),
        (lambda pi: pi.set_glitch_filter(32, 10), p.PI_BAD_USER_GPIO),
        (lambda pi: pi.set_glitch_filter(4, 300_001), p.PI_BAD_FILTER),
        (lambda pi: pi.notify_begin(31, 1 << 4), p.PI_BAD_HANDLE),
        (lambda pi: pi.notify_close(40), p.PI_BAD_HANDLE),
        (lambda pi: pi.get_PWM_frequency(4), p.PI_UNKNOWN_COMMAND),
    ],
)
def test_error_codes(pi: pigpio.pi, call, code: int) -> None:
    with raises_code(code):
        call(pi)


def test_unknown_command_answers_instead_of_hanging(rig: SimRig) -> None:
    with socket.create_connection((rig.host, rig.port), timeout=2) as sock:
        assert raw_command(sock, 200) == p.PI_UNKNOWN_COMMAND
        assert raw_command(sock, p.PIGPV) == 79  # the connection is still usable


def test_answer_is_one_16_byte_send_with_echo(rig: SimRig) -> None:
    with socket.create_connection((rig.host, rig.port), timeout=2) as sock:
        sock.sendall(struct.pack("<IIII", p.MODEG, 4, 0, 0))
        data = sock.recv(64)
        assert data == struct.pack("<IIIi", p.MODEG, 4, 0, 0)


def test_extension_of_64k_closes_the_socket(rig: SimRig) -> None:
    with socket.create_connection((rig.host, rig.port), timeout=2) as sock:
        sock.sendall(struct.pack("<IIII", p.WVAG, 0, 0, 65536))
        assert sock.recv(16) == b""
    with socket.create_connection((rig.host, rig.port), timeout=2) as sock:
        ext = struct.pack("<III", 1 << 4, 0, 10) * (65535 // 12)
        assert raw_command(sock, p.WVAG, 0, 0, ext) == 65535 // 12


def test_callbacks_get_edges_and_ticks(pi: pigpio.pi) -> None:
    events: list[tuple[int, int, int]] = []
    cb = pi.callback(17, pigpio.EITHER_EDGE, lambda g, level, tick: events.append((g, level, tick)))
    rising: list[int] = []
    cb2 = pi.callback(17, pigpio.RISING_EDGE, lambda g, level, tick: rising.append(tick))
    pi.write(17, 0)
    before = pi.get_current_tick()
    pi.write(17, 1)
    pi.write(17, 0)
    pi.write(17, 1)
    after = pi.get_current_tick()
    assert wait_until(lambda: len(events) >= 3)
    cb.cancel()
    cb2.cancel()
    levels = [level for _, level, _ in events[-3:]]
    assert levels == [1, 0, 1]
    ticks = [t for _, _, t in events[-3:]]
    for t in ticks:
        assert (t - before) % 2**32 <= (after - before) % 2**32
    assert ticks == sorted(ticks)
    assert len(rising) == 2


def test_bank_read_and_set_clear(pi: pigpio.pi) -> None:
    pi.set_mode(20, pigpio.OUTPUT)
    pi.set_bank_1(1 << 20)
    assert pi.read_bank_1() & (1 << 20)
    pi.clear_bank_1(1 << 20)
    assert not pi.read_bank_1() & (1 << 20)
    with raises_code(p.PI_SOME_PERMITTED):
        pi.set_bank_1(1 << 0 | 1 << 20)


def test_several_clients_see_each_others_writes() -> None:
    with running_rig() as rig, pigpio_client(rig) as a, pigpio_client(rig) as b, pigpio_client(rig) as c:
        seen_b: list[int] = []
        seen_c: list[int] = []
        b.callback(19, pigpio.EITHER_EDGE, lambda g, level, t: seen_b.append(level))
        c.callback(19, pigpio.EITHER_EDGE, lambda g, level, t: seen_c.append(level))
        a.write(19, 1)
        a.write(19, 0)
        assert wait_until(lambda: len(seen_b) == 2 and len(seen_c) == 2)
        assert seen_b == [1, 0] == seen_c
        # Clients on several threads at once get their own answers.
        errors: list[BaseException] = []

        def hammer(client: pigpio.pi, gpio: int) -> None:
            try:
                for i in range(200):
                    client.write(gpio, i & 1)
                    assert client.read(gpio) == i & 1
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=hammer, args=(cl, g)) for cl, g in ((a, 22), (b, 23), (c, 24))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors


def test_notifications_close_with_their_socket(rig: SimRig) -> None:
    with pigpio_client(rig) as pi:
        pi.callback(17)
        handle = pi._notify.handle
    assert wait_until(lambda: rig.emu.notifier.slots[handle] is None)


def test_keepalive_report() -> None:
    from raild.sim.testing import rig_config

    rig = SimRig(rig_config())
    rig.keepalive_s = 0.2
    rig.start_blocking()
    try:
        with socket.create_connection((rig.host, rig.port), timeout=3) as sock:
            raw_command(sock, p.BR1)
            handle = raw_command(sock, p.NOIB)
            assert handle >= 0
            data = b""
            while len(data) < 12:
                data += sock.recv(12 - len(data))
            _seq, flags, _tick, level = struct.unpack("<HHII", data)
            assert flags == p.NTFY_FLAGS_ALIVE
            assert level == rig.emu.gpio.bank1
    finally:
        rig.stop_blocking()


def test_inject_disconnect_drops_clients(rig: SimRig) -> None:
    with socket.create_connection((rig.host, rig.port), timeout=2) as sock:
        assert raw_command(sock, p.PIGPV) == 79
        rig.inject_disconnect()
        assert sock.recv(16) == b""
    with pigpio_client(rig) as pi:
        assert pi.get_pigpio_version() == 79


def test_tick_wraps_around() -> None:
    start = 2**32 - 300_000
    with running_rig(tick_offset_us=start) as rig, pigpio_client(rig) as pi:
        first = pi.get_current_tick()
        assert first >= 2**31  # started near the top
        events: list[int] = []
        pi.callback(17, pigpio.EITHER_EDGE, lambda g, level, t: events.append(t))
        assert wait_until(lambda: pi.get_current_tick() < 2**31, 5.0)
        pi.write(17, 1)
        assert wait_until(lambda: len(events) == 1)
        assert events[0] < 2**31  # the report's tick wrapped too
        assert rig.tick() < 2**31


def test_glitch_filter_reports_steady_levels_only() -> None:
    with running_rig(time_scale=1) as rig, pigpio_client(rig) as pi:
        events: list[tuple[int, int]] = []
        pi.callback(7, pigpio.EITHER_EDGE, lambda g, level, t: events.append((level, t)))
        pi.set_glitch_filter(7, 100_000)
        rig.drive_input(7, 0)  # a 2 ms glitch
        time.sleep(0.002)
        rig.drive_input(7, None)
        time.sleep(0.15)
        assert events == []
        before = rig.tick()
        rig.drive_input(7, 0)
        after = rig.tick()
        assert wait_until(lambda: len(events) == 1, 2.0)
        level, tick = events[0]
        assert level == 0
        # Reported once steady: the tick is the edge plus the filter time.
        assert 100_000 <= (tick - before) % 2**32 <= 100_000 + (after - before) % 2**32
        # A change the filter is still holding back is reported when the filter is removed.
        rig.drive_input(7, None)
        pi.set_glitch_filter(7, 0)
        assert wait_until(lambda: len(events) == 2, 2.0)
        assert events[1][0] == 1


def test_pipe_style_handles_and_their_limit(pi: pigpio.pi) -> None:
    handle = pi.notify_open()
    assert 0 <= handle < 32
    pi.notify_begin(handle, 1 << 4)
    pi.notify_pause(handle)
    pi.notify_close(handle)
    with raises_code(p.PI_BAD_HANDLE):
        pi.notify_close(handle)
    opened = [pi.notify_open() for _ in range(31)]  # the client's own in-band handle holds one slot
    with raises_code(p.PI_NO_HANDLE):
        pi.notify_open()
    for h in opened:
        pi.notify_close(h)


def test_wave_edges_across_the_tick_wrap() -> None:
    with running_rig(tick_offset_us=2**32 - 1_500_000) as rig, pigpio_client(rig) as pi:
        pi.set_mode(17, pigpio.OUTPUT)
        ticks: list[int] = []
        pi.callback(17, pigpio.RISING_EDGE, lambda g, level, t: ticks.append(t))
        pi.wave_clear()
        pi.wave_add_generic([pigpio.pulse(1 << 17, 0, 100), pigpio.pulse(0, 1 << 17, 9900)] * 60)  # 600 ms
        wid = pi.wave_create()
        # Start about 300 ms before the wrap, so the wave spans it.
        assert wait_until(lambda: pi.get_current_tick() >= 2**32 - 300_000, 5.0)
        pi.wave_send_once(wid)
        assert wait_until(lambda: pi.wave_tx_busy() == 0 and len(ticks) == 60, 5.0)
        assert any(t > 2**31 for t in ticks) and any(t < 2**31 for t in ticks)
        assert all((b - a) % 2**32 == 10_000 for a, b in itertools.pairwise(ticks))


def test_watchdog_reports_timeouts() -> None:
    with running_rig(time_scale=10) as rig, pigpio_client(rig) as pi:
        events: list[tuple[int, int]] = []
        pi.callback(17, pigpio.EITHER_EDGE, lambda g, level, t: events.append((level, t)))
        pi.write(17, 0)
        pi.set_watchdog(17, 100)  # 100 ms of emulated time = 10 ms here
        assert wait_until(lambda: len(events) >= 3, 2.0)
        pi.set_watchdog(17, 0)
        time.sleep(0.05)
        n = len(events)
        time.sleep(0.05)
        assert len(events) == n  # cancelled
        timeouts = [t for level, t in events if level == pigpio.TIMEOUT]
        assert len(timeouts) >= 3
        assert all((b - a) % 2**32 == 100_000 for a, b in itertools.pairwise(timeouts))
        # A level change restarts the watchdog.
        events.clear()
        pi.set_watchdog(17, 100)
        pi.write(17, 1)
        edge_at = lambda: next((i for i, (level, _) in enumerate(events) if level == 1), None)  # noqa: E731
        assert wait_until(
            lambda: edge_at() is not None and any(level == pigpio.TIMEOUT for level, _ in events[edge_at() :]), 2.0
        )
        pi.set_watchdog(17, 0)
        i = edge_at()
        assert i is not None
        timeout_tick = next(t for level, t in events[i:] if level == pigpio.TIMEOUT)
        assert (timeout_tick - events[i][1]) % 2**32 == 100_000
        with raises_code(p.PI_BAD_WDOG_TIMEOUT):
            pi.set_watchdog(17, 60_001)
        with raises_code(p.PI_BAD_USER_GPIO):
            pi.set_watchdog(32, 10)


async def test_blocking_clients_work_from_an_event_loop_thread() -> None:
    rig = SimRig()
    await rig.start("127.0.0.1", 0)
    try:
        assert rig.port > 0 and rig.running
        pi = pigpio.pi(rig.host, rig.port)  # blocking calls on this loop's own thread
        try:
            assert pi.get_hardware_revision() == 0xC03112
            pi.write(17, 1)
            assert pi.read(17) == 1
        finally:
            pi.stop()
    finally:
        await rig.stop()
    assert not rig.running
    # The rail can still be inspected after the server stopped.
    assert rig.rail.true_position_um == 50_000.0
