"""`python -m clutchcall_engine` is `clutchcall-engine` (so profilers and tests can run it as a module)."""

from .cli import main

main()
