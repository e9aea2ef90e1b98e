"""Which language edition of an issue each subscriber of a list send gets.

A newsletter in several languages has one issue file per edition (`2020-11.toml`, the main
one, then `2020-11.fr.toml`...). Sending the issue by its main slug sends each subscriber the
edition of their language when that edition's file exists and can be read and rendered, else
the main edition. Sending it by an edition's slug (`2020-11.fr`) sends that edition to
whoever is given: a list of French readers, say.

Either way, every edition's sends are one issue in the send ledger, under the main slug: an
address that has one edition of an issue never gets another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from newsletter.config import Config, NewsletterConfig
from newsletter.errors import NewsletterError
from newsletter.issue import Issue, edition_paths, main_slug, read_issue
from newsletter.model import RenderedEmail


@dataclass(frozen=True, slots=True)
class Edition:
    """One language edition of an issue, ready to send."""

    language: str
    issue: Issue
    email: RenderedEmail  # rendered, tracking parameters on its links
    newsletter: NewsletterConfig  # the newsletter as this edition shows it (its sender...)


@dataclass(frozen=True, slots=True)
class IssueSend:
    """The editions a list send can send, by language, the one for everybody else first."""

    key: str  # the ledger's name for the issue, every edition's: "<newsletter>/<main slug>"
    name: str  # the issue as it was named: "<newsletter>/<slug>"
    editions: Mapping[str, Edition]
    languages: tuple[str, ...]  # the newsletter's, in its order (the report counts by them)

    @property
    def fallback(self) -> Edition:
        return next(iter(self.editions.values()))

    def edition_for(self, language: str | None) -> Edition:
        """The edition for a subscriber's language ("" or None: the newsletter's first): that
        language's, else its primary language's (fr for fr-CA), else the fallback."""
        wanted = (language or "").replace("_", "-").lower()
        by_tag = {tag.lower(): edition for tag, edition in self.editions.items()}
        return by_tag.get(wanted) or by_tag.get(wanted.split("-")[0]) or self.fallback


def issue_send(issue: Issue, config: Config) -> tuple[IssueSend, list[str]]:
    """The issue's editions to send, and why any of its edition files is left out (its
    subscribers then get the main edition). An issue named by an edition's slug is that
    edition alone."""
    from newsletter.export import prepared_email

    newsletter = config.newsletters.get(issue.newsletter)
    languages = newsletter.languages if newsletter else (issue.language,)
    main = main_slug(config, issue.newsletter, issue.slug)
    email, shown = prepared_email(issue, config)
    editions = {issue.language: Edition(issue.language, issue, email, shown)}
    problems: list[str] = []
    if main == issue.slug:
        for language, path in edition_paths(config, issue).items():
            if language in editions:
                continue
            try:
                edition = read_issue(path, config)
                email, shown = prepared_email(edition, config)
            except NewsletterError as error:
                problems.append(
                    f"{path.name}: {error}; its readers get the {issue.language} edition"
                )
                continue
            editions[language] = Edition(language, edition, email, shown)
    key = f"{issue.newsletter}/{main}"
    return IssueSend(key, f"{issue.newsletter}/{issue.slug}", editions, languages), problems
