"""PyInstaller's entry script: the same `main` as the `strongroom` console script."""

import sys

from strongroom.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
