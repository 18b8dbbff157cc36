"""`python -m demo`: see `demo/__init__.py`."""

import sys

from demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
