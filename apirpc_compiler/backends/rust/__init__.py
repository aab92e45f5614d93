"""The `rust` target (see backend.py); importing backend.py registers it."""
