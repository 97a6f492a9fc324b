"""Allow ``python -m telemetry_stack``."""

import sys

from telemetry_stack.cli import main

sys.exit(main())
