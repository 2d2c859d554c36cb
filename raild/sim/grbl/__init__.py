"""A grbl 1.1 emulator attached to the virtual rail (simulated).

Modules: `gcode` (line clean-up and parsing), `settings` (the `$` EEPROM, its
`$$` listing and rules), `motion` (planner and stepper), `machine` (protocol and
states), `sim` (`GrblSim`: threads, TCP or pty, inspection), `standalone`
(`raild sim-grbl`), `inprocess` (`--sim` with the grbl backend).

Faithful to grbl's documentation where a client can tell: real-time bytes `?`
`!` `~` 0x18 0x85 picked out of the stream at once; `<State|MPos:...|Bf:...|FS:...|
Pn:...|WCO:...>` reports (Bf with `$10` bit 1, WCO on the first report after a
reset and every 10th/30th); `ok` and `error:N`; `ALARM:N` with the
`[MSG:Reset to continue]` and `[MSG:'$H'|'$X' to unlock]` messages where grbl
sends them; a 128-byte receive buffer and a 15-block planner, so character
counting works and an overfilled buffer loses bytes; `$$ $X $H $J= $I $G $N $#
$SLP $n=v`; G0 G1 G4 G20 G21 G53 G90 G91 F; feed hold decelerating at `$120`
through Hold:1 to Hold:0; soft reset keeping the position, with ALARM:3 when
steps were running; hard and soft limits; homing (search at `$25`, pull-off
`$27`, locate at `$24`, pull-off; machine position -`$130`+`$27` or -`$27`);
the flood coolant pin (M8/M9 wait for the planner to empty, as grbl's coolant_sync;
off on reset, `$SLP`, M2/M30), each edge recorded on the rail at its emulated µs
(a wired shutter on it). `GrblSim.unplug()`/`replug()` take the TCP end away and
back at the same port; `inject_reset()` resets the board by itself.

Left out (a client that relies on these will notice):
- only the rail's axis moves; words for the other axes are accepted and reported,
  nothing is attached to them; there is one limit input for both switches;
- step instants follow exact trapezoids, not grbl's 10 ms constant-rate segments;
  the junction speed of collinear blocks is the lower nominal speed ($11 unused);
- no arcs, probing, G10/G28/G30/G92 or work offsets (WCO is always 0), tool
  offsets, line numbers (`Ln:`), overrides (0x90-0x9D and the coolant toggles
  0xA0/0xA1 are ignored; no `Ov:`, no `A:` accessory field), M7 mist,
  safety door (0x84 ignored), check mode (`$C` answers error:3), startup lines,
  `$RST`, inch reports (`$13` is stored, positions stay in mm);
- the driver is enabled except in Sleep (`$1` idle delay and `$4` are not modelled);
- serial timing: bytes arrive as fast as the transport delivers them; a DTR reset
  on connect only with `GrblSim(reset_on_connect=True)`;
- speed: the emulator computes about 45 000 steps per second of host time; keep
  `sim.time_scale` × the step rate below that, or answers come in bursts.
"""
