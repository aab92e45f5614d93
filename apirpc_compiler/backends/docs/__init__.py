"""The `docs` target (see backend.py); importing backend.py registers it."""

from .backend import DocsBackend as DocsBackend
