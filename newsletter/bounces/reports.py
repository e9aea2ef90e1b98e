"""What a bounce or complaint says: which addresses failed, how, and after which send.

`classify` reads one message: an RFC 3464 delivery report, a bounce in one of the older forms
MTAs still write (flufl.bounce, Mailman's detectors, reads those), or an RFC 5965 feedback
report (a complaint). It names the message it answers by the Message-ID the report quotes or
by the VERP address it came back to. Everything else (an out-of-office reply, a reader's
answer, a message cut in half) is left alone with the reason, and no message, however broken,
makes it raise. What follows from a bounce (the send it answers, the suppression) is the
database's business, not this module's.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from email.errors import MessageDefect
from email.header import Header, decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr

from flufl.bounce import all_failures

from newsletter.verp import verp_token

# A report comes before the message it quotes: a cut keeps the report and the quoted headers.
MAX_MESSAGE_BYTES = 2 * 1024 * 1024
_MAX_PARTS = 100
_MAX_TEXT = 256 * 1024  # characters of one part's text looked at
_DIAGNOSTIC_LENGTH = 300
_SUBJECT_LENGTH = 200

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_REPLY = re.compile(r"\b[45]\d\d[ -]")
_ADDRESS = re.compile(r"[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+")
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_QUOTED_MESSAGE_ID = re.compile(r"(?im)^message-id:[ \t]*(<[^<>\s@]+@[^<>\s@]+>)")
_ADDRESS_TYPE = re.compile(r"^\s*[A-Za-z0-9-]+\s*;")
# Where a bounce's envelope recipient, our VERP address, shows.
_VERP_HEADERS = (
    "To",
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
    "Return-Path",
)
_MAIL_SYSTEMS = frozenset(
    {"mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon", "postmaster", "mdaemon"}
)
_AUTO_REPLY_SUBJECT = re.compile(
    r"(?i)^\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[ -]?(?:reply|response)"
    r"|auto:|autoreply|abwesenheit|réponse automatique|respuesta automática|risposta automatica)"
)
_COMPLAINTS = frozenset({"abuse", "fraud", "virus", "other"})  # not-spam, auth-failure: not ours
_NOTICES = ("delivered", "relayed", "expanded")
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

# flufl.bounce logs a detector's exception before re-raising it; we answer for it ourselves.
logging.getLogger("flufl.bounce").addHandler(logging.NullHandler())


@dataclass(frozen=True, slots=True)
class Bounce:
    """A failed delivery or a complaint, and what names the send it answers."""

    kind: str  # "hard", "soft" or "complaint"
    addresses: tuple[str, ...]  # the failed recipients (the complainant), lower-cased, sorted
    message_id: str | None  # the Message-ID of our message, when the report quotes it
    verp: str | None  # the VERP token of the address the report came back to
    status: str  # the DSN status ("5.1.1") or the ARF Feedback-Type ("abuse")
    diagnostic: str  # one line, for the report
    source: str  # "mail/bounces.mbox#3", "Maildir/new/1700000.x.host", "imap://..."


@dataclass(frozen=True, slots=True)
class Unrecognised:
    """A message left alone, and why."""

    source: str
    subject: str  # one line
    reason: str


class UnparsableMessage(MessageDefect):
    """What `_parse` gives a message the email package could not parse at all."""


@dataclass(frozen=True, slots=True)
class _Recipient:
    """One recipient of a delivery report."""

    address: str | None
    action: str
    status: str | None
    diagnostic: str


def classify(
    message: Message, source: str, return_path: str | None = None
) -> Bounce | Unrecognised:
    """What `message` reports; `return_path` (`bounces@example.org`) is the address VERP
    addresses are made from, when the sender uses them."""
    try:
        return _classify(message, source, return_path)
    except Exception as error:  # a message is data: whatever trips on it, it is left alone
        return Unrecognised(source, _subject(message), f"cannot be read ({type(error).__name__})")


def _classify(message: Message, source: str, return_path: str | None) -> Bounce | Unrecognised:
    subject = _subject(message)
    if not message.keys():
        unparsable = [str(d) for d in message.defects if isinstance(d, UnparsableMessage)]
        return Unrecognised(source, subject, unparsable[0] if unparsable else "no mail headers")
    verp = _verp(message, return_path) if return_path else None
    parts = _parts(message)
    types = {part.get_content_type() for part in parts}
    if "message/feedback-report" in types:
        return _complaint(parts, source, verp, subject, message, return_path)
    if "message/delivery-status" in types:
        found = _delivery_report(parts, source, verp, subject, message)
        if found is not None:
            return found
    from_mail_system = _from_mail_system(message)
    if _auto_reply(message, subject) and not from_mail_system:
        return Unrecognised(source, subject, "an automatic reply (out of office), not a bounce")
    # flufl.bounce's heuristics would read a reader's "write to a@b.org, or..." as a bounce.
    bounced = _null_sender(message) or message.get_content_type() == "multipart/report"
    if from_mail_system or bounced:
        return _other_bounce(parts, source, verp, subject, message) or Unrecognised(
            source, subject, "from a mail system, but names no failed recipient"
        )
    return Unrecognised(source, subject, "not a delivery report or a complaint")


def _delivery_report(
    parts: list[Message], source: str, verp: str | None, subject: str, message: Message
) -> Bounce | Unrecognised | None:
    """An RFC 3464 report's failures; None when it holds no recipient (the others may read it)."""
    recipients = [
        recipient
        for part in parts
        if part.get_content_type() == "message/delivery-status"
        for recipient in _recipients(part)
    ]
    failures = [r for r in recipients if not r.action.startswith(_NOTICES)]
    if not failures:
        if recipients:
            return Unrecognised(source, subject, "a delivery notice, not a failure")
        return None
    kinds = [_kind(r.action, r.status) for r in failures]
    kind = "hard" if "hard" in kinds else "soft"
    chosen = [r for r, k in zip(failures, kinds, strict=True) if k == kind]
    first = chosen[0]
    status = first.status or ("5.0.0" if kind == "hard" else "4.0.0")
    diagnostic = first.diagnostic or f"{first.action or 'failed'}, status {status}"
    return _bounce(
        kind,
        [r.address for r in chosen if r.address],
        _message_id(message, parts),
        verp,
        status,
        diagnostic,
        source,
        subject,
    )


def _recipients(part: Message) -> Iterator[_Recipient]:
    """The per-recipient fields of a message/delivery-status part (the per-message fields, with
    no Action, are passed over)."""
    for block in _field_blocks(part):
        action = _header(block, "Action").strip().lower()
        final = _header(block, "Final-Recipient")
        if not action and not final:
            continue
        original = _typed_address(_header(block, "Original-Recipient"))
        diagnostic = _header(block, "Diagnostic-Code")
        status = _status(_header(block, "Status")) or _status(diagnostic)
        if _ADDRESS_TYPE.match(diagnostic):  # "smtp; 550 ..."
            diagnostic = diagnostic.partition(";")[2]
        yield _Recipient(
            original or _typed_address(final),
            action,
            status,
            one_line(diagnostic, _DIAGNOSTIC_LENGTH),
        )


def _kind(action: str, status: str | None) -> str:
    """Hard or soft: a full mailbox (5.2.2) and every 4.x.x are soft, as is a delay."""
    if action.startswith("delayed") or (status and (status[0] == "4" or status == "5.2.2")):
        return "soft"
    return "hard"


def _other_bounce(
    parts: list[Message], source: str, verp: str | None, subject: str, message: Message
) -> Bounce | Unrecognised | None:
    """A bounce in one of the forms before RFC 3464, as flufl.bounce reads them."""
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # its detectors read whatever comes; one that trips gives no answer
        return None
    if not permanent and not temporary:
        return None
    text = "\n".join(_text(p) for p in parts if p.get_content_maintype() == "text")[:_MAX_TEXT]
    status = _status(text)
    if permanent:
        status = status or "5.0.0"
        kind = _kind("failed", status)
    else:
        status = status or "4.0.0"
        kind = "soft"
    addresses = [a.decode("ascii", "replace") for a in (permanent or temporary)]
    return _bounce(
        kind,
        addresses,
        _message_id(message, parts),
        verp,
        status,
        _diagnostic_in(text, status),
        source,
        subject,
    )


def _complaint(
    parts: list[Message],
    source: str,
    verp: str | None,
    subject: str,
    message: Message,
    return_path: str | None,
) -> Bounce | Unrecognised:
    """An RFC 5965 feedback report: who complained, of which message."""
    report = next(p for p in parts if p.get_content_type() == "message/feedback-report")
    fields = next(iter(_field_blocks(report)), Message())
    original = next(
        (_quoted_headers(p) for p in parts if p.get_content_type() in _QUOTED_TYPES), None
    )
    if verp is None and return_path:
        # A report comes to the abuse address, but it names our envelope sender: where the
        # VERP token is when the complainant's address is redacted.
        verp = _verp(fields, return_path, ("Original-Mail-From",)) or (
            _verp(original, return_path, ("Return-Path",)) if original is not None else None
        )
    # Feedback-Type is required; a report without one is read as the complaint it most likely is.
    feedback_type = _header(fields, "Feedback-Type").strip().lower() or "abuse"
    if feedback_type not in _COMPLAINTS:
        reason = f"a feedback report of type {one_line(feedback_type, 40)!r}, not a complaint"
        return Unrecognised(source, subject, reason)
    addresses = _addresses(fields.get_all("Original-Rcpt-To") or [])
    if not addresses and original is not None:
        addresses = _addresses(original.get_all("To") or [])
    agent = _header(fields, "User-Agent").strip()
    diagnostic = f"{feedback_type} report" + (f" from {agent}" if agent else "")
    return _bounce(
        "complaint",
        addresses,
        _message_id(message, parts),
        verp,
        feedback_type,
        diagnostic,
        source,
        subject,
    )


def _bounce(
    kind: str,
    addresses: Iterable[str],
    message_id: str | None,
    verp: str | None,
    status: str,
    diagnostic: str,
    source: str,
    subject: str,
) -> Bounce | Unrecognised:
    cleaned = (address.strip().strip("<>").lower() for address in addresses)
    found = tuple(sorted({address for address in cleaned if _ADDRESS.fullmatch(address)}))
    if not found and not message_id and not verp:
        return Unrecognised(source, subject, "names neither a recipient nor the message it answers")
    return Bounce(
        kind, found, message_id, verp, status, one_line(diagnostic, _DIAGNOSTIC_LENGTH), source
    )


# The message's structure and headers, read without trusting any of it.

_QUOTED_TYPES = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")


def _parts(message: Message) -> list[Message]:
    """The leaf parts, in order, without going into a quoted message (itself one part)."""
    found: list[Message] = []
    stack = [message]
    while stack and len(found) < _MAX_PARTS:
        part = stack.pop()
        inner = _inner(part)
        if part.get_content_maintype() == "multipart" and inner is not None:
            stack.extend(reversed(inner[:_MAX_PARTS]))
        else:
            found.append(part)
    return found


def _inner(part: Message) -> list[Message] | None:
    """The parts a multipart or message/* part was parsed into; None for a leaf (whose
    get_payload() would decode it, and can raise on a broken charset)."""
    if not part.is_multipart():
        return None
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else None


def _field_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    inner = _inner(part)
    if inner is not None:
        return inner
    text = _text(part).replace("\r\n", "\n")
    parser = HeaderParser(policy=email.policy.compat32)
    return [parser.parsestr(block) for block in re.split(r"\n[ \t]*\n", text) if block.strip()]


def _quoted_headers(part: Message) -> Message | None:
    """The headers of the message a report quotes (a message/rfc822 or text/rfc822-headers)."""
    inner = _inner(part)
    if inner is not None:
        return inner[0] if inner else None
    text = _text(part)
    return HeaderParser(policy=email.policy.compat32).parsestr(text) if text.strip() else None


def _message_id(message: Message, parts: list[Message]) -> str | None:
    """Our message's Message-ID: from the quoted message, the DSN's X-Original-Message-ID, a
    copy quoted in the text, or the report's In-Reply-To and References, in that order."""
    for part in parts:
        if part.get_content_type() in _QUOTED_TYPES:
            headers = _quoted_headers(part)
            if headers is not None and (found := _first_id(_header(headers, "Message-ID"))):
                return found
    for part in parts:
        if part.get_content_type() == "message/delivery-status":
            for block in _field_blocks(part):
                if found := _first_id(_header(block, "X-Original-Message-ID")):
                    return found
    for part in parts:
        if part.get_content_type() == "text/plain" and (
            quoted := _QUOTED_MESSAGE_ID.search(_text(part))
        ):
            return quoted.group(1)
    if found := _first_id(_header(message, "In-Reply-To")):
        return found
    references = _MESSAGE_ID.findall(_header(message, "References"))
    return references[-1] if references else None  # the last is the message answered


def _first_id(value: str) -> str | None:
    found = _MESSAGE_ID.search(value)
    return found.group(0) if found else None


def _verp(
    message: Message, return_path: str, headers: tuple[str, ...] = _VERP_HEADERS
) -> str | None:
    for name in headers:
        for _, address in getaddresses([_decoded(v) for v in message.get_all(name) or []]):
            if address and (token := verp_token(address, return_path)):
                return token
    return None


def _from_mail_system(message: Message) -> bool:
    name, address = parseaddr(_header(message, "From"))
    local = address.rpartition("@")[0].lower() if "@" in address else address.lower()
    return (
        local in _MAIL_SYSTEMS
        or local.startswith("microsoftexchange")  # Exchange's own NDR sender
        or "mail delivery" in name.lower()
        or "x-failed-recipients" in message
    )


def _null_sender(message: Message) -> bool:
    """Returned to the null sender, `<>`, as bounces are (and some automatic replies)."""
    return any(_decoded(v).strip() in ("<>", "") for v in message.get_all("Return-Path") or [])


def _auto_reply(message: Message, subject: str) -> bool:
    submitted = _header(message, "Auto-Submitted").strip().lower()
    return (
        (bool(submitted) and not submitted.startswith("no"))
        or any(name in message for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"))
        or _header(message, "Precedence").strip().lower() == "auto_reply"
        or bool(_AUTO_REPLY_SUBJECT.match(subject))
    )


def _addresses(values: Iterable[object]) -> list[str]:
    """The addresses in header values, but the placeholders of feedback loops that redact them
    ("redacted@aol.com")."""
    found = (address for _, address in getaddresses([_decoded(v) for v in values]))
    return [
        address
        for address in found
        if _ADDRESS.fullmatch(address) and not address.lower().startswith("redacted@")
    ]


def _typed_address(value: str) -> str | None:
    """The address of a DSN recipient field, `rfc822; someone@example.org`."""
    address = value.partition(";")[2] if ";" in value else value
    address = address.strip().strip("<>").strip()
    return address if _ADDRESS.fullmatch(address) else None


def _status(text: str) -> str | None:
    found = _STATUS.search(text)
    return ".".join(found.groups()) if found else None


def _diagnostic_in(text: str, status: str) -> str:
    """The line of a bounce's text that says what went wrong."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if status in line:
            return line
    return next((line for line in lines if _SMTP_REPLY.search(line)), lines[0] if lines else "")


def _text(part: Message) -> str:
    """A leaf part's text, decoded, the first `_MAX_TEXT` characters of it."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    data = payload[: _MAX_TEXT * 4]
    try:
        return data.decode(part.get_content_charset() or "utf-8", "replace")[:_MAX_TEXT]
    except (LookupError, UnicodeError, ValueError):  # an unknown or unusable charset
        return data.decode("utf-8", "replace")[:_MAX_TEXT]


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    return "" if value is None else _decoded(value)


def _decoded(value: object) -> str:
    """A header value as text: RFC 2047 words decoded, raw 8-bit bytes read as UTF-8."""
    if isinstance(value, Header):  # what compat32 makes of 8-bit bytes; str() would lose them
        return "".join(_bytes_text(data, charset) for data, charset in decode_header(value))
    text = value if isinstance(value, str) else ""
    if "=?" in text:
        with suppress(Exception):  # a malformed encoded word stays as it was written
            text = str(make_header(decode_header(text)))
    try:
        return _bytes_text(text.encode("utf-8", "surrogateescape"), "utf-8")
    except UnicodeEncodeError:  # surrogates no parser made
        return text.encode("utf-8", "replace").decode("utf-8")


def _bytes_text(data: bytes | str, charset: str | None) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode(charset or "utf-8", "replace")
    except (LookupError, UnicodeError, ValueError):  # unknown-8bit and the like
        return data.decode("utf-8", "replace")


def _subject(message: Message) -> str:
    try:
        return one_line(_header(message, "Subject"), _SUBJECT_LENGTH)
    except Exception:  # the subject of a message that cannot be read is only a label
        return ""


def one_line(text: str, limit: int) -> str:
    """`text` on one line, without control characters, at most `limit` characters."""
    kept = "".join(
        " " if unicodedata.category(c) in _REMOVED_CATEGORIES else c for c in text[: limit * 4]
    )
    line = " ".join(kept.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
