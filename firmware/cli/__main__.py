"""``python -m firmware.cli``."""

import sys

from firmware.cli.app import main

sys.exit(main())
