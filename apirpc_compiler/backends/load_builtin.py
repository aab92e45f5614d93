"""Importing this module registers every builtin backend: each target's backend.py runs its @register."""

# Keep alphabetical.
from .cpp import backend as _cpp  # noqa: F401
from .csharp import backend as _csharp  # noqa: F401
from .docs import backend as _docs  # noqa: F401
from .go import backend as _go  # noqa: F401
from .java import backend as _java  # noqa: F401
from .openapi import backend as _openapi  # noqa: F401
from .proto import backend as _proto  # noqa: F401
from .python import backend as _python  # noqa: F401
from .rust import backend as _rust  # noqa: F401
from .typescript import backend as _typescript  # noqa: F401
