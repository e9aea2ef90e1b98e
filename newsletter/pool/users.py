"""The studio's users, and reviewers' approvals of issue versions, in the pool's database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Connection, Table, delete, insert, select
from sqlalchemy.exc import IntegrityError

from newsletter.errors import NewsletterError
from newsletter.pool.tables import ApprovalRow, UserRow

users = cast(Table, UserRow.__table__)
approvals = cast(Table, ApprovalRow.__table__)
ROLES = ("editor", "reviewer")


def add(connection: Connection, name: str, role: str, password_hash: str) -> None:
    if role not in ROLES:
        raise NewsletterError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    try:
        connection.execute(insert(users).values(name=name, role=role, password=password_hash,
                                                added=datetime.now(UTC)))  # fmt: skip
    except IntegrityError:
        raise NewsletterError(f"there is a user {name!r} already") from None


def remove(connection: Connection, name: str) -> None:
    if not connection.execute(delete(users).where(users.c.name == name)).rowcount:
        raise NewsletterError(f"no user {name!r}")


def listed(connection: Connection) -> list[tuple[str, str]]:
    rows = connection.execute(select(users.c.name, users.c.role).order_by(users.c.name))
    return [(str(name), str(role)) for name, role in rows]


def found(connection: Connection, name: str) -> tuple[str, str] | None:
    """(role, password hash) of a user, or None."""
    row = connection.execute(
        select(users.c.role, users.c.password).where(users.c.name == name)
    ).first()
    return (str(row[0]), str(row[1])) if row else None


def approve(connection: Connection, newsletter: str, slug: str, digest: str, by: str) -> None:
    exists = connection.execute(
        select(approvals.c.by).where(approvals.c.newsletter == newsletter,
                                     approvals.c.slug == slug, approvals.c.digest == digest)
    ).first()  # fmt: skip
    if exists is None:
        connection.execute(insert(approvals).values(newsletter=newsletter, slug=slug,
                                                    digest=digest, by=by,
                                                    approved=datetime.now(UTC)))  # fmt: skip


def approved_by(connection: Connection, newsletter: str, slug: str, digest: str) -> str | None:
    row = connection.execute(
        select(approvals.c.by).where(approvals.c.newsletter == newsletter,
                                     approvals.c.slug == slug, approvals.c.digest == digest)
    ).first()  # fmt: skip
    return str(row[0]) if row else None
