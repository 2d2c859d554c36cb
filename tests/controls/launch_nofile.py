"""`python tests/controls/launch_nofile.py serve ...`: the real `raild` command line
with at most 1024 open files, as a Pi's default limit allows without LimitNOFILE."""

from __future__ import annotations

import resource
import sys

from raild.cli import main

NOFILE = 1024

if __name__ == "__main__":
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, hard))
    sys.exit(main(sys.argv[1:]))
