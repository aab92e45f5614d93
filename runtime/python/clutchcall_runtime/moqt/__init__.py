"""MoQT (Media over QUIC Transport) for ClutchCall: one session layer for client and server roles.

`versions` maps a draft to its generated codec, `transport` adapts raw QUIC and WebTransport
connections (aioquic) to the session, `session` is the state machine, `client` the SDK surface.
"""
