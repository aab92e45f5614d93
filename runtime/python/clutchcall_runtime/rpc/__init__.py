"""RPC for the generated clients and server stubs (`clutchcall.rpc`): REST over HTTP/1.1 and HTTP/3, and
the legacy envelope RPC over QUIC; `ApiError` for every ErrorStatus."""

from ..moqt.transport import ServerTls, TlsOptions
from .client import ApiClientBase, Channel, EnvelopeChannel, RestChannel, RetryPolicy, ServiceClient
from .envelope import ALPN, EnvelopeLimits, EnvelopeServer
from .errors import ApiError
from .http1 import Http1Server
from .http3 import H3Requests, h3_requests, listen_rest_h3
from .rest import HttpRequest, HttpResponse, Router
from .server import Dispatcher, Endpoint, Handler, HttpApp, RequestContext, RestApp

__all__ = [
    "ALPN",
    "ApiClientBase",
    "ApiError",
    "Channel",
    "Dispatcher",
    "Endpoint",
    "EnvelopeChannel",
    "EnvelopeLimits",
    "EnvelopeServer",
    "H3Requests",
    "Handler",
    "Http1Server",
    "HttpApp",
    "HttpRequest",
    "HttpResponse",
    "RequestContext",
    "RestApp",
    "RestChannel",
    "RetryPolicy",
    "Router",
    "ServerTls",
    "ServiceClient",
    "TlsOptions",
    "h3_requests",
    "listen_rest_h3",
]
