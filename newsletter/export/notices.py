"""Messages to one person about their subscription (the confirmation of a double opt-in):
the same checked headers as an issue, no list headers, sent at once over SMTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from newsletter.config import NewsletterConfig
from newsletter.export.mime import build_message, message_id_for, sender_of
from newsletter.export.smtp import DeliveryFailure, ServerFailure, SmtpTransport
from newsletter.model import RenderedEmail, Subscriber


def notice_message(
    newsletter: NewsletterConfig, to: Subscriber, subject: str, text: str, html: str
) -> bytes:
    """The message, each header value checked (a name with a line break never gets in)."""
    sender = sender_of(newsletter)
    email = RenderedEmail(subject, "", html, text, "", newsletter.language)
    return build_message(
        email,
        newsletter,
        message_id=message_id_for(sender.domain, f"notice.{uuid.uuid4().hex}"),
        date=datetime.now(UTC),
        to=(to.name, to.smtp_address),
    )


def send_notice(
    transport: SmtpTransport, newsletter: NewsletterConfig, to: Subscriber, data: bytes
) -> str | None:
    """Send it; None when the server took it, else why not (one line, for the log)."""
    try:
        sender = sender_of(newsletter)  # its bounce, if any, names no send: no VERP
        transport.send(sender.return_path or sender.from_address, to.smtp_address, data)
    except (DeliveryFailure, ServerFailure) as failure:
        return str(failure)
    finally:
        transport.close()
    return None
