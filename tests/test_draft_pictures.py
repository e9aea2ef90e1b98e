"""Drafts take the pool's pictures: the lead's always, the items' when the newsletter's
`[layout] thumbnails = true`; the alt text is the editor's to write (check says so)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from newsletter.config import Config, load_config
from newsletter.draft import create_draft, set_lead
from newsletter.errors import NewsletterError
from newsletter.ingest import ingest_file
from newsletter.issue import read_issue
from newsletter.pool import Pool
from newsletter.render import render_issue
from newsletter.render.checks import check_email

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
  <channel>
    <title>Cooperatives news</title>
    <link>https://www.ilo.org/coop/</link>
    <description>News</description>
    <item>
      <title>Cooperatives gather for the centennial symposium</title>
      <link>https://www.ilo.org/coop/symposium</link>
      <pubDate>Fri, 27 Nov 2020 16:45:00 +0100</pubDate>
      <description>Two days on the future of cooperatives.</description>
      <media:content url="https://www.ilo.org/images/symposium.jpg" medium="image"/>
    </item>
    <item>
      <title>A cooperative strategy for Jordan</title>
      <link>https://www.ilo.org/coop/jordan</link>
      <pubDate>Wed, 04 Nov 2020 00:30:00 +0100</pubDate>
      <description>The steering committee meets.</description>
      <media:content url="https://www.ilo.org/images/jordan.jpg" medium="image"/>
    </item>
    <item>
      <title>Cooperative chiefs across time</title>
      <link>https://www.ilo.org/coop/chiefs</link>
      <pubDate>Tue, 10 Nov 2020 09:00:00 +0100</pubDate>
      <description>A hundred years of the unit's heads.</description>
    </item>
  </channel>
</rss>
"""
NOVEMBER = (date(2020, 11, 1), date(2020, 11, 30))


def config_with(workspace: Path, thumbnails: bool) -> Config:
    toml = workspace / "newsletter.toml"
    text = toml.read_text()
    if thumbnails:
        text += "\n[newsletters.ilo-coop-enews.layout]\nthumbnails = true\n"
    toml.write_text(text)
    return load_config(toml)


@pytest.mark.parametrize("thumbnails", [False, True])
def test_a_draft_takes_the_lead_picture_and_with_thumbnails_the_items(
    workspace: Path, pool: Pool, thumbnails: bool
) -> None:
    config = config_with(workspace, thumbnails)
    feed = workspace / "news.rss"
    feed.write_text(FEED)
    ingest_file(pool, config, feed)
    path = create_draft(pool, config, "ilo-coop-enews", *NOVEMBER).path
    issue = read_issue(path, config)
    assert issue.lead is not None
    assert issue.lead.image == "https://www.ilo.org/images/symposium.jpg"
    assert issue.lead.image_alt is None  # not guessed: the editor says what it shows
    pictures = {item.title: item.image for item in issue.items if item is not issue.lead}
    expected_jordan = "https://www.ilo.org/images/jordan.jpg" if thumbnails else None
    assert pictures["A cooperative strategy for Jordan"] == expected_jordan
    assert pictures["Cooperative chiefs across time"] is None
    assert 'image = "https://www.ilo.org/images/symposium.jpg"' in path.read_text()
    errors = [f.message for f in check_email(issue, render_issue(issue, config))
              if f.code == "alt"]  # fmt: skip
    assert len(errors) == (2 if thumbnails else 1)


def test_the_layout_table_is_checked(workspace: Path) -> None:
    toml = workspace / "newsletter.toml"
    toml.write_text(toml.read_text() + "\n[newsletters.ilo-coop-enews.layout]\nthumbnails = 1\n")
    with pytest.raises(NewsletterError, match=r"layout\.thumbnails: expected true or false"):
        load_config(toml)


def test_a_new_lead_takes_its_pool_picture_and_the_old_lead_keeps_its_own(
    workspace: Path, pool: Pool
) -> None:
    config = config_with(workspace, thumbnails=False)
    feed = workspace / "news.rss"
    feed.write_text(FEED)
    ingest_file(pool, config, feed)
    path = create_draft(pool, config, "ilo-coop-enews", *NOVEMBER).path
    jordan = next(i for i in read_issue(path, config).items if "Jordan" in i.title)
    assert jordan.image is None  # no thumbnails: an item is drafted without its picture

    lead, _ = set_lead(config, path, jordan.uid, pool)

    assert lead.image == "https://www.ilo.org/images/jordan.jpg"
    issue = read_issue(path, config)
    assert issue.lead is not None
    assert issue.lead.uid == jordan.uid
    assert issue.lead.image == "https://www.ilo.org/images/jordan.jpg"
    assert issue.lead.image_alt is None  # still the editor's to write
    old = next(i for i in issue.items if "symposium" in i.title)
    assert old.image == "https://www.ilo.org/images/symposium.jpg"
    chiefs = next(i for i in issue.items if "chiefs" in i.title)
    set_lead(config, path, chiefs.uid, pool)  # no pool picture: none is made up
    assert read_issue(path, config).lead.image is None  # type: ignore[union-attr]
