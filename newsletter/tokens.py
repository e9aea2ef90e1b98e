"""Opaque tokens for links that name a subscriber (one-click unsubscribe, RFC 8058).

A token is the subscriber's address encrypted and authenticated with AES-SIV (RFC 5297), the
newsletter's slug bound in as associated data: whoever sees the link cannot read the address
in it, cannot make one for another address, and cannot move it to another newsletter. SIV is
deterministic, so a subscriber's link is the same in every issue. The key comes from the
secret in $NEWSLETTER_SIGNING_KEY, stretched by HKDF; the endpoint that receives the link
(`read_token`) holds the same secret.
"""

from __future__ import annotations

import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

_PURPOSE = b"newsletter unsubscribe token v1"
# What make_token writes: a token with anything else in it (which the decoder would skip)
# is an altered one.
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


@lru_cache(maxsize=8)
def _cipher(secret: bytes) -> AESSIV:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(hashes.SHA256(), length=64, salt=None, info=_PURPOSE).derive(secret)
    return AESSIV(key)


def make_token(address: str, newsletter: str, secret: bytes) -> str:
    """The token of `address` (compared without case) for one newsletter."""
    sealed = _cipher(secret).encrypt(address.lower().encode(), [newsletter.encode()])
    return urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def read_token(token: str, newsletter: str, secret: bytes) -> str | None:
    """The address in a token made for this newsletter with this secret; None for anything
    else (altered, made for another newsletter or with another secret, not a token)."""
    from cryptography.exceptions import InvalidTag

    if len(token) > 2000 or not _ALPHABET.fullmatch(token):
        return None
    try:
        sealed = urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return _cipher(secret).decrypt(sealed, [newsletter.encode()]).decode("utf-8")
    except (ValueError, InvalidTag):  # a bad length, bad base64 or UTF-8, a wrong tag
        return None


def make_confirm_token(address: str, newsletter: str, secret: bytes, issued: int) -> str:
    """The token of a confirmation link: the address and when it was asked for (Unix
    seconds), sealed like make_token's but for this purpose only, so that neither kind of
    token passes for the other."""
    plain = f"{issued}:{address.lower()}".encode()
    sealed = _cipher(secret).encrypt(plain, [newsletter.encode(), _CONFIRM])
    return urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def read_confirm_token(
    token: str, newsletter: str, secret: bytes, now: int, max_age: float
) -> str | None:
    """The address of a confirmation token no older than `max_age` seconds, else None."""
    from cryptography.exceptions import InvalidTag

    if len(token) > 2000 or not _ALPHABET.fullmatch(token):
        return None
    try:
        sealed = urlsafe_b64decode(token + "=" * (-len(token) % 4))
        plain = _cipher(secret).decrypt(sealed, [newsletter.encode(), _CONFIRM]).decode("utf-8")
        issued, _, address = plain.partition(":")
        age = now - int(issued)
    except (ValueError, InvalidTag):
        return None
    return address if 0 <= age <= max_age else None


_CONFIRM = b"confirm"
