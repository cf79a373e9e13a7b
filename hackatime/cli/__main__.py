"""`python -m hackatime.cli`, as the tests and benchmarks start the command."""

from __future__ import annotations

import sys

from hackatime.cli import main

sys.exit(main())
