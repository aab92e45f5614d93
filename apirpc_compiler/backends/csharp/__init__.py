"""The `csharp` target (see backend.py); importing backend.py registers it."""
