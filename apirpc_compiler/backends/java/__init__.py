"""The Java target (`--target java`); importing this package registers it."""

from . import backend as _backend  # noqa: F401  (runs @register("java"))
