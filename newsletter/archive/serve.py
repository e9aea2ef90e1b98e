"""Serve a built archive on 127.0.0.1, for a local look."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from newsletter.errors import NewsletterError
from newsletter.localserver import serve_locally


class _ArchiveHandler(SimpleHTTPRequestHandler):
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code == 404 and page.is_file():  # the site's own page, as a web server would
            data = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().send_error(code, message, explain)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_archive(
    folder: Path, port: int = 8000, on_ready: Callable[[ThreadingHTTPServer], None] | None = None
) -> None:
    if not (folder / "index.html").is_file():
        raise NewsletterError(f"no archive in {folder}: build it first (newsletter archive)")
    serve_locally(port, partial(_ArchiveHandler, directory=str(folder)), on_ready)
