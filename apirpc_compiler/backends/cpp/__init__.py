"""The C++ target (see backend.py)."""

from . import backend  # noqa: F401
