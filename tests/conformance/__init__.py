"""The cross-language conformance runner: drives every SDK's testee (see PROTOCOL.md)."""
