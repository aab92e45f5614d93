"""The `openapi` target (see backend.py); importing backend.py registers it."""

from .backend import openapi_document as openapi_document
from .backend import render_openapi as render_openapi
