"""apirpc-compiler: the ClutchCall IDL compiler (validate, IR, generate, breaking, docs)."""

__version__ = "0.1.0"
