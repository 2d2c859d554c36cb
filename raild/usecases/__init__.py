"""Use cases of the daemon: what one request or button asks, spanning its layers.

The API's routes parse HTTP, call one function here (or one layer method) and
translate its answer; the rules stay in these functions and in the layers, and the
layers' typed errors become problems in one place (`raild/api/errors.py`).
"""
