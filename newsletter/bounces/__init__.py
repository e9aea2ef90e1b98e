"""Bounces and complaints, read from a mailbox: which addresses failed, how, and after which
send (reports.py), from a Maildir, an mbox or an IMAP folder (mailboxes.py)."""

from newsletter.bounces.mailboxes import read_imap, read_mailbox
from newsletter.bounces.reports import MAX_MESSAGE_BYTES, Bounce, Unrecognised, classify

__all__ = ["MAX_MESSAGE_BYTES", "Bounce", "Unrecognised", "classify", "read_imap", "read_mailbox"]
