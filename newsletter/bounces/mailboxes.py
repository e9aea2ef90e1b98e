"""Reading mailboxes of bounces: a Maildir, an mbox file, or an IMAP folder, each message
with where it was read, and nothing in the mailbox changed."""

from __future__ import annotations

import email
import email.policy
import imaplib
import ipaddress
import mailbox
import re
import ssl
from base64 import b64encode
from collections.abc import Iterator
from contextlib import suppress
from email.message import Message
from pathlib import Path

from newsletter.bounces.reports import MAX_MESSAGE_BYTES, UnparsableMessage, one_line
from newsletter.errors import NewsletterError

# Reading mailboxes.


def read_mailbox(path: Path) -> Iterator[tuple[str, Message]]:
    """Each message of a Maildir (a folder with cur/ and new/) or an mbox file, with where it
    was read; nothing in the mailbox is changed."""
    if path.is_dir():
        if not ((path / "cur").is_dir() and (path / "new").is_dir()):
            raise NewsletterError("a folder, but not a Maildir (no cur/ and new/ in it)", path)
        return _read_maildir(path)
    try:
        with path.open("rb") as file:
            start = file.read(5)
    except FileNotFoundError:
        raise NewsletterError("no such mailbox", path) from None
    except OSError as error:
        raise NewsletterError(f"cannot read the mailbox: {error.strerror}", path) from None
    if start and start != b"From ":
        raise NewsletterError("not an mbox file (it does not start with a 'From ' line)", path)
    return _read_mbox(path)


def _read_maildir(path: Path) -> Iterator[tuple[str, Message]]:
    for folder in ("cur", "new"):  # tmp/ holds deliveries still being written
        try:
            entries = sorted((path / folder).iterdir())
        except OSError as error:
            raise NewsletterError(f"cannot read the Maildir: {error.strerror}", path) from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                with entry.open("rb") as file:
                    data = file.read(MAX_MESSAGE_BYTES)
            except (FileNotFoundError, IsADirectoryError):
                continue  # moved from new/ to cur/ by a mail client meanwhile
            except OSError as error:
                raise NewsletterError(f"cannot read: {error.strerror}", entry) from None
            yield str(entry), _parse(data)


def _read_mbox(path: Path) -> Iterator[tuple[str, Message]]:
    try:
        box = mailbox.mbox(path, create=False)
        try:
            for number, key in enumerate(box.iterkeys(), 1):
                with box.get_file(key) as file:
                    data = file.read(MAX_MESSAGE_BYTES)
                yield f"{path}#{number}", _parse(data)
        finally:
            box.close()
    except OSError as error:
        raise NewsletterError(f"cannot read the mailbox: {error.strerror}", path) from None


def _parse(data: bytes) -> Message:
    try:
        return email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception as error:  # it records defects rather than raise, but for deep nesting
        broken = Message()
        broken.defects.append(UnparsableMessage(f"cannot be parsed ({type(error).__name__})"))
        return broken


# Reading an IMAP folder.


def read_imap(
    host: str,
    port: int,
    user: str,
    password: str,
    folder: str = "INBOX",
    *,
    security: str = "ssl",
    timeout: float = 30,
) -> Iterator[tuple[str, Message]]:
    """Each message of an IMAP folder, read without marking it read (EXAMINE, BODY.PEEK);
    connects when the first message is asked for. `security` is "ssl", "starttls", or "none"
    (plain, for a server on this machine only)."""
    if security not in ("ssl", "starttls", "none"):
        raise NewsletterError(f"IMAP security is 'ssl', 'starttls' or 'none', not {security!r}")
    if security == "none" and not _loopback(host):
        raise NewsletterError(
            f"an IMAP connection without TLS is only for this machine, not {host}: "
            "use security 'ssl' or 'starttls'"
        )
    return _read_imap(host, port, user, password, folder, security, timeout)


def _read_imap(
    host: str, port: int, user: str, password: str, folder: str, security: str, timeout: float
) -> Iterator[tuple[str, Message]]:
    try:
        client = _imap_connect(host, port, security, timeout)
    except (OSError, imaplib.IMAP4.error) as error:
        raise NewsletterError(
            f"cannot connect to the IMAP server {host}:{port}: {_reason(error)}"
        ) from None
    try:
        try:
            client.login(user, password)
        except imaplib.IMAP4.error as error:
            raise NewsletterError(
                f"the IMAP server {host} refused the login of {user}: {_reason(error)}"
            ) from None
        status, selected = client.select(_imap_folder(folder), readonly=True)
        if status != "OK":
            raise NewsletterError(f"no IMAP folder {folder!r} on {host}: {_reason(selected)}")
        status, searched = client.uid("SEARCH", "ALL")
        found = searched[0] if status == "OK" and searched else None
        uids = found.split() if isinstance(found, bytes) else []
        for uid in (number.decode("ascii", "replace") for number in uids):
            status, fetched = client.uid("FETCH", uid, f"(BODY.PEEK[]<0.{MAX_MESSAGE_BYTES}>)")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
            if status == "OK" and isinstance(raw, bytes):  # else expunged meanwhile
                yield f"imap://{user}@{host}/{folder}#{uid}", _parse(raw)
    except (OSError, imaplib.IMAP4.error) as error:
        raise NewsletterError(f"IMAP error from {host}: {_reason(error)}") from None
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _imap_connect(host: str, port: int, security: str, timeout: float) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if security == "ssl":
        return imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
    client = imaplib.IMAP4(host, port, timeout=timeout)
    if security == "starttls":
        try:
            client.starttls(ssl_context=context)
        except BaseException:
            client.shutdown()  # not logged in: nothing to log out of
            raise
    return client


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _imap_folder(name: str) -> str:
    """A folder name as IMAP writes it: quoted, in modified UTF-7 (RFC 3501, 5.1.3)."""

    def encoded(run: re.Match[str]) -> str:
        utf16 = b64encode(run.group(0).encode("utf-16-be")).decode("ascii")
        return "&" + utf16.rstrip("=").replace("/", ",") + "-"

    written = re.sub(r"[^\x20-\x7e]+", encoded, name.replace("&", "&-"))
    return '"' + written.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _reason(error: object) -> str:
    """One line from an imaplib or socket error (imaplib's messages are bytes in a list)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    arguments = error.args if isinstance(error, BaseException) else error
    words = arguments if isinstance(arguments, list | tuple) else [arguments]
    text = " ".join(w.decode("utf-8", "replace") if isinstance(w, bytes) else str(w) for w in words)
    return one_line(text, 200) or type(error).__name__
