"""The ClutchCall engine: the MoQT relay role over raw QUIC and WebTransport, tenant-token auth and metrics.

Modules: `config` (EngineConfig and its limits), `certs` (the self-signed development certificate),
`auth` (ES256 tenant tokens), `metrics` (Prometheus counters), `relay` and `server` (the listeners),
`cli` (the `clutchcall-engine` command).
"""

__version__ = "0.1.0"
