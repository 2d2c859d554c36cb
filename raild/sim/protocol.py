"""pigpiod's socket protocol: command numbers, error codes and limits.

Values are those of pigpio v79 (pigpio.h, pigpio.c, command.h); the emulator
answers with exactly these so client code sees what a real Pi would give it.
The facts raild's own pigpio code also relies on come from `raild.hw.pigpio_facts`,
so the emulator and the client cannot disagree about them.
"""

from __future__ import annotations

import struct

from raild.hw import pigpio_facts as facts

# Requests and responses are four native uint32 words; the response's fourth
# word is the result (an int32 carried as uint32).
REQUEST = struct.Struct("<IIII")
RESPONSE = struct.Struct("<IIIi")
REPORT = struct.Struct("<HHII")  # notification: seqno, flags, tick, level
REQUEST_LEN = 16
MAX_EXTENSION_BYTES = 65536  # CMD_MAX_EXTENSION: a larger extension closes the socket

# Command numbers (pigpio.h PI_CMD_*).
MODES, MODEG, PUD, READ, WRITE = 0, facts.CMD_MODEG, 2, 3, 4
WDOG = 9
BR1, BR2 = 10, 11
BC1, BS1 = 12, 14
TICK, HWVER, NO, NB, NP, NC = 16, facts.CMD_HWVER, 18, 19, 20, 21
PIGPV = facts.CMD_PIGPV
WVCLR, WVAG = 27, 28
WVBSY, WVHLT, WVSM, WVSP, WVSC = 32, 33, 34, 35, 36
WVCRE, WVDEL, WVTX, WVTXR, WVNEW = 49, 50, 51, 52, 53
WVCHA = 93
FG = 97
NOIB = 99
WVTXM, WVTAT = 100, 101
WVCAP = 118

# Error codes (pigpio.h).
PI_BAD_USER_GPIO = -2
PI_BAD_GPIO = -3
PI_BAD_MODE = -4
PI_BAD_LEVEL = -5
PI_BAD_PUD = -6
PI_BAD_WDOG_TIMEOUT = -15
PI_NO_HANDLE = -24
PI_BAD_HANDLE = -25
PI_BAD_WAVE_MODE = -33
PI_TOO_MANY_PULSES = -36
PI_NOT_PERMITTED = -41
PI_SOME_PERMITTED = -42
PI_BAD_WVSC_COMMND = -43
PI_BAD_WVSM_COMMND = -44
PI_BAD_WVSP_COMMND = -45
PI_BAD_WAVE_ID = -66
PI_TOO_MANY_CBS = -67
PI_TOO_MANY_OOL = -68
PI_EMPTY_WAVEFORM = -69
PI_NO_WAVEFORM_ID = -70
PI_BAD_PARAM = -81
PI_UNKNOWN_COMMAND = -88
PI_CHAIN_LOOP_CNT = -113
PI_BAD_CHAIN_LOOP = -114
PI_CHAIN_COUNTER = -115
PI_BAD_CHAIN_CMD = -116
PI_BAD_CHAIN_DELAY = -117
PI_CHAIN_NESTING = -118
PI_CHAIN_TOO_BIG = -119
PI_BAD_FOREVER = -124
PI_BAD_FILTER = -125

# Limits.
MAX_GPIO = 53
MAX_USER_GPIO = 31
NOTIFY_SLOTS = 32
MAX_STEADY_US = 300_000
WAVE_MAX_PULSES = facts.PIGPIO.pulses_per_wave
WAVE_MAX_MICROS = 30 * 60 * 1_000_000
MAX_WAVES = facts.PIGPIO.wave_ids
MAX_WAVE_CYCLES = facts.PIGPIO.loop_count
MAX_WAVE_DELAY_US = facts.PIGPIO.delay_us
CHAIN_COUNTERS = facts.PIGPIO.loop_counters  # WCB_COUNTERS: 2 per page × 10 pages
CHAIN_NESTING = facts.PIGPIO.nesting  # stk_pos[10]
CHAIN_CBS = facts.PIGPIO.chain_cbs  # WCB_CHAIN_CBS (60) × PI_WAVE_COUNT_PAGES (10)
# DMA memory for waves: 4 blocks × 53 pages × 118 CBs (79 OOL words) per page,
# of which the first 10 pages belong to chains.
NUM_WAVE_CBS = 4 * 53 * 118
NUM_WAVE_OOL = 4 * 53 * 79
WAVE_FIRST_CB = 10 * 118
WAVE_FIRST_OOL = 10 * 79
WAVE_START_DELAY_US = facts.START_DELAY_US  # every wave and chain begins with a 20 µs delay CB

# Wave modes and WVTAT answers.
WAVE_MODE_ONE_SHOT, WAVE_MODE_REPEAT, WAVE_MODE_ONE_SHOT_SYNC, WAVE_MODE_REPEAT_SYNC = 0, 1, 2, 3
WAVE_NOT_FOUND = facts.WAVE_NOT_FOUND
NO_TX_WAVE = facts.NO_TX_WAVE

# Notification report flags.
NTFY_FLAGS_ALIVE = 0x40
NTFY_FLAGS_WDOG = 0x20
MAX_WDOG_TIMEOUT_MS = 60_000
KEEPALIVE_S = 60.0

PIGPIO_VERSION = 79
# A Raspberry Pi 4 Model B rev 1.2, 4 GB, Sony UK: decodes in gpiozero.
PI4_REVISION = 0xC03112
# Pi 4 default update mask: user GPIO 2-27 may be changed.
PI4_UPDATE_MASK = 0x0FFFFFFC

# GPIO modes and pulls.
MODE_INPUT, MODE_OUTPUT = 0, 1
MAX_MODE = 7
PUD_OFF, PUD_DOWN, PUD_UP = 0, 1, 2

# The wave memory the client's budget assumes is the emulator's.
assert (NUM_WAVE_CBS, NUM_WAVE_OOL) == (facts.PIGPIO.wave_cbs, facts.PIGPIO.wave_ools)
