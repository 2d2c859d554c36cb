"""The grbl drive: a grbl 1.1 or grblHAL board on USB serial times the steps.

`drive.GrblDrive` implements the Drive seam; `link` owns the serial port;
`messages` parses what the board says; `settings` compares its `$$` with the
config; `fix` writes them on request (`raild check --fix-grbl`); `check` gives
`raild check`'s findings; `codes` holds grbl's error, alarm and setting numbers.
"""
