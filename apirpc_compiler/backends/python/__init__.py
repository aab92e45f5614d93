"""The `python` target: the `clutchcall` package (see backend.py)."""
