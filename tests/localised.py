"""A French or Spanish copy of the sample workspace, and a finder of the theme's English
words in what it prints.

Theme text and authors' text share text nodes ("Actualités · 13 novembre 2020" is the theme's
type label and date; "Lire la suite : <title>" holds an item's title), and the sample items
are English. So a node loses every author's string it contains (item titles, summaries, the
config's names), and a node that is itself part of an author's string (a wrapped title's
line, a summary's fragment around a link) is left out whole; what remains is the theme's.
English words are whole words or phrases, any case (the text part writes section titles in
capitals), and only those the language writes differently ("Article" is French too).
"""

from __future__ import annotations

import re
import shutil
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.dates import get_month_names
from lxml import html as lxml_html  # type: ignore[import-untyped]

from newsletter.config import Config
from newsletter.issue import Issue
from newsletter.labels import DEFAULT_THEME, PUBLIC_PAGES
from tests.conftest import ROOT

SAMPLE = "ilo-coop-enews"
SECTIONS = {  # the sample's section titles as a French and a Spanish editor would write them
    "fr": {"News": "Actualités", "Articles": "Articles", "Interviews": "Entretiens",
           "Publications": "Publications"},
    "es": {"News": "Noticias", "Articles": "Artículos", "Interviews": "Entrevistas",
           "Publications": "Publicaciones"},
}  # fmt: skip
EDITOR = {  # the rest of the config that is the editor's to write in the language
    "fr": {'"{name} - {month} issue"': '"{name} - numéro de {month}"',
           '"You receive ILO COOP eNews because': '"Vous recevez ILO COOP eNews car',
           'title = "ILO newsletters"': 'title = "Lettres de l’OIT"\nlanguage = "fr"',
           'name = "Cooperatives"': 'name = "Coopératives"'},
    "es": {'"{name} - {month} issue"': '"{name} - número de {month}"',
           '"You receive ILO COOP eNews because': '"Recibe ILO COOP eNews porque',
           'title = "ILO newsletters"': 'title = "Boletines de la OIT"\nlanguage = "es"',
           'name = "Cooperatives"': 'name = "Cooperativas"'},
}  # fmt: skip
# A source's type label no default table knows, named in the newsletter's own theme.
OWN_TYPES = {"fr": "Entretien ILO COOP 100", "es": "Entrevista ILO COOP 100"}
TITLES = {"fr": "ILO COOP eNews - numéro de novembre", "es": "ILO COOP eNews - número de noviembre"}


def localised_workspace(folder: Path, language: str) -> Path:
    """The sample workspace with its newsletter in `language`, and the sample issue 2020-11
    as a draft in that language would be (its sections named by the config): its config."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "newsletter.toml").read_text(encoding="utf-8")
    text = text.replace('language = "en"\ndate_format', f'language = "{language}"\ndate_format')
    text = text.replace(
        'archive_url = "https://newsletters',
        'templates = "theme"\narchive_url = "https://newsletters',
        1,
    )
    for old, new in EDITOR[language].items():
        assert old in text, old
        text = text.replace(old, new)
    issue = (ROOT / "issues" / SAMPLE / "2020-11.toml").read_text(encoding="utf-8")
    issue = issue.replace('language = "en"', f'language = "{language}"')
    issue = issue.replace(
        'title = "ILO COOP eNews - November issue"', f'title = "{TITLES[language]}"'
    )
    for english, local in SECTIONS[language].items():
        text = text.replace(f'title = "{english}"', f'title = "{local}"')
        issue = issue.replace(f'title = "{english}"', f'title = "{local}"')
    (folder / "newsletter.toml").write_text(text, encoding="utf-8")
    (folder / "theme").mkdir(exist_ok=True)
    (folder / "theme" / "labels.toml").write_text(
        f'[{language}.types]\n"ILO COOP 100 Interview" = "{OWN_TYPES[language]}"\n', "utf-8"
    )
    shutil.copytree(ROOT / "examples", folder / "examples", dirs_exist_ok=True)
    (folder / "issues" / SAMPLE).mkdir(parents=True, exist_ok=True)
    (folder / "issues" / SAMPLE / "2020-11.toml").write_text(issue, encoding="utf-8")
    return folder / "newsletter.toml"


def english_words(language: str, labels: Path = DEFAULT_THEME / "labels.toml") -> list[str]:
    """The theme's English words that `language` writes otherwise: its labels, its type
    labels, the sample's section titles and the catch-all's, the months."""
    tables = tomllib.loads(labels.read_text(encoding="utf-8"))
    english, local = tables["en"], tables[language]
    pairs = [(v, local.get(k, "")) for k, v in english.items() if isinstance(v, str)]
    pairs += [(v, local.get("types", {}).get(k, "")) for k, v in english.get("types", {}).items()]
    if labels.parent != PUBLIC_PAGES:
        pairs += list(SECTIONS[language].items())
        months = get_month_names("wide", locale=language)
        pairs += [
            (str(name), str(months[n])) for n, name in get_month_names("wide", locale="en").items()
        ]
    words = {
        e.strip(" :")
        for e, other in pairs
        if e.strip(" :").casefold() != other.strip(" :").casefold()
    }
    return sorted(w for w in words if re.search(r"\w", w))


def text_nodes(page: str) -> Iterator[str]:
    """Every text node of an HTML page, and the words of its attributes readers meet."""
    document = lxml_html.document_fromstring(page)
    for element in document.iter():
        if element.tag in ("style", "script") or not isinstance(element.tag, str):
            continue
        for text in (element.text, element.tail):
            if text and text.strip():
                yield text
        for name in ("alt", "title", "placeholder", "aria-label", "content"):
            if element.get(name) and not (
                name == "content" and element.get("name") != "description"
            ):
                yield element.get(name)
        for name, value in element.attrib.items():
            if name.startswith("data-") and not value.endswith(".json"):
                yield value


def _squeezed(text: str) -> str:
    return " ".join(text.split())


def english_in(nodes: Iterable[str], words: list[str], authors: Iterable[str]) -> list[str]:
    """`word in node` for each English word found in the theme's part of a node."""
    written = sorted({_squeezed(a) for a in authors if a.strip()}, key=len, reverse=True)
    found = []
    for node in nodes:
        text = _squeezed(re.sub(r"https?://\S+|\[\d+\]|%%\w+%%", " ", node))
        if not text or any(re.search(rf"(?<!\w){re.escape(text)}(?!\w)", a) for a in written):
            continue  # an author's, whole
        for author in written:
            text = text.replace(author, " ")
        for word in words:
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE):
                found.append(f"{word!r} in {node!r}")
    return found


def authors_text(config: Config, issue: Issue) -> list[str]:
    """What the editor and the sources wrote: the issue's and the config's own words."""
    from newsletter.markup import text_from_html

    found = [issue.title, issue.intro, config.archive.title, config.archive.address]
    for item in issue.items:
        found += [item.title, item.summary, text_from_html(item.summary), item.place or ""]
    for newsletter in config.newsletters.values():
        brand = newsletter.brand
        found += [newsletter.name, brand.name, brand.address, brand.reason, brand.footer]
        found += [link.name for link in brand.social]
    found += [topic.name for topic in config.topics.values()]
    return [text for text in found if text]
