"""The `proto` target (see backend.py); importing backend.py registers it."""

from .backend import PROTO_FILE as PROTO_FILE
from .backend import ProtoBackend as ProtoBackend
