"""`python -m tests.conformance`: run the conformance suite (see runner.py for the options)."""

import sys

from .runner import main

sys.exit(main())
