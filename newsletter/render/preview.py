"""A local preview: the email at desktop and phone widths beside its text part, re-rendered and
reloaded in the browser whenever the issue file, the config or a template changes."""

from __future__ import annotations

import contextlib
import html
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from newsletter.config import Config, load_config
from newsletter.errors import NewsletterError
from newsletter.issue import read_issue
from newsletter.localserver import serve_locally
from newsletter.model import RenderedEmail
from newsletter.render import render_issue
from newsletter.render.theme import Theme, theme_folders

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Preview: {title}</title>
<style>
body {{ margin: 0; font: 14px/1.4 system-ui, sans-serif; background: #e9ebee; color: #1f2933; }}
header {{ padding: 10px 16px; background: #fff; border-bottom: 1px solid #ccd; }}
header b {{ font-size: 16px; }} header span {{ color: #5f6b7a; margin-left: 12px; }}
#error {{ display: none; margin: 12px 16px; padding: 10px; background: #fde8e8; color: #8a1c1c;
  white-space: pre-wrap; font-family: monospace; }}
main {{ display: flex; gap: 16px; padding: 16px; align-items: flex-start; overflow-x: auto; }}
figure {{ margin: 0; }} figcaption {{ font-size: 12px; color: #5f6b7a; margin-bottom: 4px; }}
iframe {{ border: 1px solid #ccd; background: #fff; height: 80vh; }}
pre {{ margin: 0; padding: 12px; width: 76ch; height: 80vh; overflow: auto; background: #fff;
  border: 1px solid #ccd; font: 13px/1.45 ui-monospace, monospace; white-space: pre-wrap; }}
</style></head>
<body>
<header><b id="subject">{title}</b><span id="preheader">{preheader}</span>
<span id="size"></span></header>
<div id="error" role="alert"></div>
<main>
<figure><figcaption>Desktop, 800 px</figcaption>
<iframe id="desktop" title="Desktop" width="800" src="email.html"></iframe></figure>
<figure><figcaption>Phone, 375 px</figcaption>
<iframe id="phone" title="Phone" width="375" src="email.html"></iframe></figure>
<figure><figcaption>Text part</figcaption><pre id="text"></pre></figure>
</main>
<script>
let version = null;
async function poll() {{
  try {{
    const state = await (await fetch("state", {{cache: "no-store"}})).json();
    const error = document.getElementById("error");
    error.style.display = state.error ? "block" : "none";
    error.textContent = state.error || "";
    if (state.version !== version) {{
      const first = version === null;
      version = state.version;
      document.getElementById("subject").textContent = state.subject;
      document.getElementById("preheader").textContent = state.preheader;
      document.getElementById("size").textContent = state.size.toLocaleString() + " bytes";
      document.getElementById("text").textContent =
        await (await fetch("email.txt", {{cache: "no-store"}})).text();
      if (!first) for (const id of ["desktop", "phone"])
        document.getElementById(id).src = "email.html?v=" + version;
    }}
  }} catch (e) {{ /* the server stopped: try again */ }}
  setTimeout(poll, 700);
}}
poll();
</script>
</body></html>
"""


@dataclass
class PreviewState:
    version: int = 0
    fingerprint: tuple[tuple[str, float, int], ...] = ()
    email: RenderedEmail | None = None
    error: str | None = None


class IssuePreview:
    """Renders an issue on demand, again only when something it is made from has changed."""

    def __init__(self, issue_path: Path, config_path: Path):
        self.issue_path = issue_path
        self.config_path = config_path
        self.state = PreviewState()
        self.lock = threading.Lock()

    def watched(self, config: Config | None) -> list[Path]:
        newsletters = config.newsletters.values() if config else ()
        folders = {f for n in newsletters for f in theme_folders(n.templates)}
        folders |= set(theme_folders(None))
        files = [self.issue_path, self.config_path]
        for folder in sorted(folders):
            files += sorted(path for path in folder.rglob("*") if path.is_file())
        return files

    def fingerprint(self, config: Config | None) -> tuple[tuple[str, float, int], ...]:
        found = []
        for path in self.watched(config):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((str(path), stat.st_mtime, stat.st_size))
        return tuple(found)

    def current(self) -> PreviewState:
        with self.lock:
            config = None
            with contextlib.suppress(NewsletterError):  # render() below shows the error
                config = load_config(self.config_path)
            fingerprint = self.fingerprint(config)
            if fingerprint != self.state.fingerprint:
                self.state = self.render(fingerprint)
            return self.state

    def render(self, fingerprint: tuple[tuple[str, float, int], ...]) -> PreviewState:
        try:
            config = load_config(self.config_path)
            issue = read_issue(self.issue_path, config)
            newsletter = config.newsletters.get(issue.newsletter)
            theme = Theme(theme_folders(newsletter.templates if newsletter else None))
            email = render_issue(issue, config, theme)  # a fresh theme sees edited labels too
            return PreviewState(self.state.version + 1, fingerprint, email, None)
        except NewsletterError as error:
            return PreviewState(self.state.version + 1, fingerprint, self.state.email, str(error))


def make_handler(preview: IssuePreview) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state = preview.current()
            email = state.email
            route = self.path.split("?", 1)[0]
            if route == "/":
                title = html.escape(email.subject if email else "(does not render)")
                preheader = html.escape(email.preheader if email else "")
                self.send(PAGE.format(title=title, preheader=preheader), "text/html")
            elif route == "/email.html":
                self.send(email.html if email else "", "text/html")
            elif route == "/email.txt":
                self.send(email.text if email else "", "text/plain")
            elif route == "/state":
                body = {
                    "version": state.version,
                    "error": state.error,
                    "subject": email.subject if email else "",
                    "preheader": email.preheader if email else "",
                    "size": len(email.html.encode()) if email else 0,
                }
                self.send(json.dumps(body), "application/json")
            else:
                self.send("not found", "text/plain", status=404)

        def send(self, body: str, kind: str, status: int = 200) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the terminal is for the editor, not for request logs

    return Handler


def serve_preview(
    issue_path: Path,
    config_path: Path,
    port: int = 8025,
    on_ready: Callable[[ThreadingHTTPServer], None] | None = None,
) -> None:
    """Serve on 127.0.0.1 until interrupted; `on_ready` gets the server once it listens."""
    preview = IssuePreview(issue_path, config_path)
    preview.current()
    serve_locally(port, make_handler(preview), on_ready)
