import sys

from raild.cli import main

sys.exit(main())
