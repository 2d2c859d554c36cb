"""Drives: the one owner of step generation and the driver's enable (see protocol.py)."""
