"""A web server on 127.0.0.1 for a person at this machine (the preview, the archive), until
interrupted: the one place that binds, reports a busy port in one line, and serves."""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from newsletter.errors import NewsletterError


def serve_locally(
    port: int,
    handler: Callable[..., BaseHTTPRequestHandler] | type[BaseHTTPRequestHandler],
    on_ready: Callable[[ThreadingHTTPServer], None] | None = None,
) -> None:
    """Serve `handler` on 127.0.0.1:`port` (0: any free port); `on_ready` gets the server once
    it listens."""
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as error:
        raise NewsletterError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from None
    with server:
        if on_ready:
            on_ready(server)
        server.serve_forever(poll_interval=0.2)
