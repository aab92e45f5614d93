"""`python tests/conformance/run.py`: the same as `python -m tests.conformance`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.conformance.runner import main

sys.exit(main())
