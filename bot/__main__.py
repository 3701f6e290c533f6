"""`python -m bot` runs the same command line as the `agreement-bot` script."""

import sys

from bot.cli import main

sys.exit(main())
