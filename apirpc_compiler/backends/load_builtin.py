"""Importing this module registers every builtin backend."""

# Each import runs a @register decorator. Keep alphabetical.
from . import (
    docs,  # noqa: F401
    openapi,  # noqa: F401
    proto,  # noqa: F401
)
from . import go as _go  # noqa: F401
from .cpp import backend as _cpp  # noqa: F401
from .csharp import backend as _csharp  # noqa: F401
from .java import backend as _java  # noqa: F401
from .python import backend as _python  # noqa: F401
from .rust import backend as _rust  # noqa: F401
from .typescript import backend as _typescript  # noqa: F401
