"""Importing this module registers every builtin backend."""

# Each import runs a @register decorator. Keep alphabetical.
from . import (
    docs,  # noqa: F401
    proto,  # noqa: F401
)
from .python import backend as _python  # noqa: F401
