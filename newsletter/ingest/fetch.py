"""Fetch a source's page or feed over HTTP(S) with httpx: politely, within limits, and only when
it changed (the ETag and Last-Modified of the last fetch are sent back; 304 means no change).

Temporary failures (a connection refused or reset, a timeout, 429 and 5xx answers) are retried
with a doubling pause, honouring Retry-After; anything else fails at once with one clear line.
Each attempt has one deadline for connecting, the headers and the body, and connects only to
public addresses unless the source allows private ones (netguard.py). A URL's user name and
password are used but never shown: errors and reports name the URL without them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from importlib.metadata import PackageNotFoundError, version

import httpx

from newsletter.config import FetchConfig
from newsletter.errors import NewsletterError
from newsletter.ingest.documents import Document
from newsletter.ingest.netguard import (
    AddressRefused,
    Deadline,
    GuardedTransport,
    without_credentials,
)

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_RETRY_AFTER = 60.0  # seconds: a longer wish is a reason to fail, not to wait


def _version() -> str:
    try:
        return version("newsletter")
    except PackageNotFoundError:
        return "0"


DEFAULT_USER_AGENT = f"newsletter/{_version()} (email newsletter builder; polite, conditional)"


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server said of a page, to ask next time for it only if it changed."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetch's outcome: the page (None when the server said it has not changed)."""

    url: str  # after redirects
    status: int
    document: Document | None
    validators: Validators
    attempts: int


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def fetch(
    url: str,
    *,
    validators: Validators | None = None,
    settings: FetchConfig | None = None,
    sleep: Callable[[float], None] = time.sleep,
    allow_private: bool = False,
) -> Fetched:
    """GET `url`; NewsletterError (naming the URL, without credentials) when it cannot be had."""
    settings = settings or FetchConfig()
    shown = without_credentials(url)
    headers = {"User-Agent": settings.user_agent or DEFAULT_USER_AGENT, "Accept": "*/*"}
    # A header value must be ASCII: a server's odd validator is dropped, not sent back.
    if validators and validators.etag and validators.etag.isascii():
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified and validators.last_modified.isascii():
        headers["If-Modified-Since"] = validators.last_modified
    attempt = 0
    while True:
        attempt += 1
        deadline = Deadline(settings.timeout)
        with httpx.Client(
            headers=headers,
            timeout=settings.timeout,
            follow_redirects=True,
            max_redirects=settings.max_redirects,
            transport=GuardedTransport(deadline, allow_private=allow_private),
        ) as client:
            try:
                return _attempt(client, url, shown, settings, attempt)
            except _Retry as retry:
                if attempt > settings.retries:
                    tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                    raise NewsletterError(
                        f"cannot fetch: {retry.reason} ({tries})", shown
                    ) from None
                pause = settings.backoff * 2 ** (attempt - 1)
                sleep(retry.wait if retry.wait is not None else pause)


def _attempt(
    client: httpx.Client, url: str, shown: str, settings: FetchConfig, attempt: int
) -> Fetched:
    try:
        with client.stream("GET", url) as response:
            final = without_credentials(str(response.url))
            if response.status_code == 304:
                return Fetched(final, 304, None, _validators(response), attempt)
            if response.status_code in _RETRY_STATUSES:
                wait = _retry_after(response)
                if wait is not None and wait > _MAX_RETRY_AFTER:
                    asks = f"and it asks to wait {wait:.0f} s before trying again"
                    raise NewsletterError(f"cannot fetch: {_status_text(response)}, {asks}", shown)
                raise _Retry(_status_text(response), wait)
            if response.status_code >= 400:
                raise NewsletterError(f"cannot fetch: {_status_text(response)}", shown)
            body = _read_capped(response, settings, shown)
            media_type, charset = _content_type(response.headers.get("content-type", ""))
            document = Document(
                name=final,
                content=body,
                url=final,
                media_type=media_type,
                charset=charset,
            )
            return Fetched(final, response.status_code, document, _validators(response), attempt)
    except httpx.TooManyRedirects:
        raise NewsletterError(
            f"cannot fetch: more than {settings.max_redirects} redirects (a redirect loop?)", shown
        ) from None
    except httpx.UnsupportedProtocol:
        raise NewsletterError(
            "cannot fetch: only http and https addresses are fetched", shown
        ) from None
    except AddressRefused as refused:
        raise NewsletterError(f"cannot fetch: {refused}", shown) from None
    except httpx.TimeoutException:
        raise _Retry(f"no complete answer within {settings.timeout:g} s") from None
    except httpx.DecodingError as error:  # a corrupt compressed body: a server's fault
        raise NewsletterError(
            f"cannot fetch: the response cannot be decoded ({error})", shown
        ) from None
    except httpx.TransportError as error:
        raise _Retry(str(error) or type(error).__name__) from None
    except httpx.HTTPError as error:
        raise NewsletterError(f"cannot fetch: {error or type(error).__name__}", shown) from None
    except (httpx.InvalidURL, UnicodeError) as error:  # bad IDNA host names are UnicodeErrors
        raise NewsletterError(f"not a URL that can be fetched: {error}", shown) from None


def _read_capped(response: httpx.Response, settings: FetchConfig, url: str) -> bytes:
    """The body, refused as soon as it passes the size cap (the deadline is the socket's)."""
    limit = settings.max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise NewsletterError(f"cannot fetch: {_size(int(declared))} is over the {_size(limit)} "
                              "limit (raise [fetch] max_bytes)", url)  # fmt: skip
    chunks, total = [], 0
    for chunk in response.iter_bytes():  # decoded: a compressed bomb counts at its real size
        total += len(chunk)
        if total > limit:
            raise NewsletterError(f"cannot fetch: the response is over the {_size(limit)} limit "
                                  "(raise [fetch] max_bytes)", url)  # fmt: skip
        chunks.append(chunk)
    return b"".join(chunks)


def _validators(response: httpx.Response) -> Validators:
    return Validators(response.headers.get("etag"), response.headers.get("last-modified"))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value[:15]) if value.isdigit() else None  # 15 digits: years, still finite


def _status_text(response: httpx.Response) -> str:
    return f"the server answered {response.status_code} {response.reason_phrase}".rstrip()


def _content_type(value: str) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    message = Message()
    message["content-type"] = value
    charset = message.get_param("charset")
    return message.get_content_type(), str(charset) if isinstance(charset, str) else None


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MiB" if count >= 1024 * 1024 else f"{count} bytes"
