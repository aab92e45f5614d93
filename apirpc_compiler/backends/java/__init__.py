"""The `java` target (see backend.py); importing backend.py registers it."""
