"""Importing this module registers every builtin backend."""

# Each import runs a @register decorator. Keep alphabetical.
