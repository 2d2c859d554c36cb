"""The test toolkit shared by tests/, hw_tests/ and bench/: free ports, config files,
`raild serve` subprocesses, homing and waiting with deadlines.

Import it as `tests.support.<module>`: pytest puts the repository root on sys.path
(pyproject's `pythonpath`), and bench scripts insert the root themselves.
"""
