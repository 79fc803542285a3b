"""``python -m quantreg``: the same as the ``quantreg`` command."""

import sys

from quantreg.cli import main

if __name__ == "__main__":
    sys.exit(main())
