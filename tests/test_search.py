"""Does the site's search box find AWS API names the way learners type them?

Search runs in the browser: Material for MkDocs' search worker indexes the built
``search/search_index.json`` with lunr. These tests build the real site once, read its index
and tokenize it in Python the way the worker does:

- pages: each section's title and text (HTML: tags end a word) are split with one regex,
  the index's own ``config.separator`` (the ``separator`` of mkdocs.yml's search plugin);
  each piece is lower-cased, trimmed of non-word characters at both ends, and dropped when
  it is a stop word (the index's pipeline is ``stopWordFilter``; the list is read from the
  built worker script);
- queries: split on whitespace; a ``name:`` prefix is lunr's field syntax, which Material
  turns into a plain term matched whole; the rest is split with the same separator,
  lower-cased, and given a trailing wildcard, so a term matches any word of a section that
  starts with it. A section is found when every term that is not a stop word matches.

Japanese (``lang: [en, ja]``) adds TinySegmenter, which the worker runs only on words that
hold kana or kanji: the API names here hold none, so it is not modelled.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_site import build_site

# mkdocs.yml without a separator: Material's default for English.
DEFAULT_SEPARATOR = r"[\s\-]+"

# (what the learner types, how the pages write it)
API_NAMES = [
    ("ResourceTag", "aws:ResourceTag/"),
    ("PassRole", "iam:PassRole"),
    ("StartInstances", "ec2:StartInstances"),
    ("SecureTransport", "aws:SecureTransport"),
    ("PrincipalOrgID", "aws:PrincipalOrgID"),
    ("TerminateInstances", "ec2:TerminateInstances"),
]
# The whole name, prefix and all, as copied from a policy.
WHOLE_NAMES = [
    ("iam:PassRole", "iam:PassRole"),
    ("ec2:StartInstances", "ec2:StartInstances"),
    ("aws:ResourceTag/Environment", "aws:ResourceTag/Environment"),
]
# One part of a camelCase name.
PARTS = [
    ("Instances", "ec2:StartInstances"),
    ("Tag", "aws:ResourceTag/"),
    ("OrgID", "aws:PrincipalOrgID"),
]


@dataclass(frozen=True)
class Section:
    location: str
    title: str
    text: str

    @property
    def plain(self) -> str:
        """The section as a reader sees it: tags removed, entities decoded."""
        return html.unescape(re.sub(r"<[^>]*>", "", f"{self.title} {self.text}"))


@dataclass(frozen=True)
class Client:
    """The search worker's tokenizer, for one separator."""

    separator: str
    stop_words: frozenset[str]

    def split(self, text: str) -> list[str]:
        # Zero-width matches split too (Python 3.7+), like Material's split(); it emits only
        # non-empty ranges.
        return [piece for piece in re.split(self.separator, text) if piece]

    def page_words(self, section: Section) -> set[str]:
        words = set()
        for field in (section.title, section.text):
            for chunk in re.split(r"<[^>]*>", field):  # a tag ends a word
                for piece in self.split(chunk):
                    word = re.sub(r"^\W+|\W+$", "", piece.lower())  # lunr's trimmer
                    if word and word not in self.stop_words:
                        words.add(word)
        return words

    def query_terms(self, query: str) -> list[tuple[str, bool]]:
        """(term, has a trailing wildcard) for each term of the query."""
        terms = []
        for part in query.split():
            *fields, rest = part.split(":")
            terms += [(field.lower(), False) for field in fields if field]
            terms += [(piece.lower(), True) for piece in self.split(rest)]
        return terms

    def finds(self, query: str, section: Section) -> bool:
        """Does every term of the query match a word of the section? Stop words ("get" of
        GetObject) are never in the index, and Material does not count them either."""
        words = self.page_words(section)
        return all(
            any(word.startswith(term) for word in words) if wildcard else term in words
            for term, wildcard in self.query_terms(query)
            if term not in self.stop_words
        )


def stop_words(site: Path) -> frozenset[str]:
    """lunr's English stop words, as the built search worker holds them."""
    (worker,) = (site / "assets/javascripts/workers").glob("search.*.min.js")
    found = re.search(
        r"stopWordFilter=\w+\.generateStopWordFilter\((\[[^\]]*\])\)",
        worker.read_text(encoding="utf-8"),
    )
    assert found, f"no stop word list in {worker.name}"
    return frozenset(json.loads(found.group(1)))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory)  # the same build as tests/test_site.py


@pytest.fixture(scope="module")
def index(site) -> dict:
    return json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sections(index) -> list[Section]:
    return [Section(doc["location"], doc["title"], doc["text"]) for doc in index["docs"]]


@pytest.fixture(scope="module")
def client(site, index) -> Client:
    assert index["config"]["pipeline"] == ["stopWordFilter"]  # what Client models
    return Client(index["config"]["separator"], stop_words(site))


@pytest.fixture(scope="module")
def default_client(site) -> Client:
    return Client(DEFAULT_SEPARATOR, stop_words(site))


def missed(client: Client, query: str, name: str, sections: list[Section]) -> list[str]:
    """The sections that write ``name`` but that ``query`` does not find."""
    using = [s for s in sections if name in s.plain]
    assert using, f"no page writes {name} any more: pick another name for this test"
    return [s.location for s in using if not client.finds(query, s)]


@pytest.mark.parametrize(("query", "name"), API_NAMES)
def test_search_finds_api_names_as_typed(client, sections, query, name):
    assert missed(client, query, name, sections) == []


@pytest.mark.parametrize(("query", "name"), WHOLE_NAMES)
def test_search_finds_the_whole_name_with_its_prefix(client, sections, query, name):
    assert missed(client, query, name, sections) == []


@pytest.mark.parametrize(("query", "name"), PARTS)
def test_search_finds_a_name_by_one_of_its_parts(client, sections, query, name):
    assert missed(client, query, name, sections) == []


@pytest.mark.parametrize(("query", "name"), [*API_NAMES[:3], *WHOLE_NAMES[:1]])
def test_the_default_separator_misses_them(default_client, sections, query, name):
    # Proof that the check can fail: `[\s\-]+` keeps aws:ResourceTag/Environment as one word.
    assert missed(default_client, query, name, sections) != []


def test_the_tokenizer_splits_names_as_the_worker_does(client):
    words = client.page_words(
        Section("x.html", "", '<code>"aws:ResourceTag/&lt;key&gt;": "dev"</code> in 1.4 s.')
    )
    assert words == {"aws", "resource", "tag", "key", "dev", "1.4", "s"}
    assert client.query_terms("iam:PassRole") == [("iam", False), ("pass", True), ("role", True)]
    assert client.query_terms("OrgID") == [("orgid", True)]


def test_the_offline_index_carries_the_same_separator(site, index):
    # Opened from disk, the site reads the index inlined in search_index.js.
    inlined = (site / "search/search_index.js").read_text(encoding="utf-8")
    assert inlined.startswith("var __index = ")
    assert json.loads(inlined.removeprefix("var __index = ")) == index


def test_the_separator_is_regex_every_browser_accepts(index):
    # The worker compiles it with `new RegExp(...)`; one that does not compile ends search.
    # No lookbehind (older Safari rejects it) and no Python-only syntax.
    separator = index["config"]["separator"]
    for construct in ("(?<=", "(?<!", "(?P", "(?i", "(?#", r"\A", r"\Z"):
        assert construct not in separator, construct
    re.compile(separator)
