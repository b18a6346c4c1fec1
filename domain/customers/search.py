"""Normalised search tokens for names and e-mail addresses (no text index needed).

Each word is lower-cased and stripped of accents, and stored with its prefixes, so a search for
"mar gar" finds "María García" through one multikey index with ``$all``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

MIN_PREFIX = 2
MAX_TOKEN = 24
MAX_TERMS = 8
_WORD = re.compile(r"[a-z0-9]+")


class WordKind(StrEnum):
    """Where a search word is looked for: each caller searches only the kinds it may see in full."""

    NAME = "NAME"  # the words of the given and family names
    EMAIL = "EMAIL"  # the words of the e-mail addresses, and whole addresses


def normalise(text: str) -> str:
    """Lower-case ``text`` and strip its accents."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The normalised words of ``text``, each cut to the longest indexed length."""
    return [w[:MAX_TOKEN] for w in _WORD.findall(normalise(text))]


def index_tokens(names: Iterable[str], emails: Iterable[str]) -> list[str]:
    """Every prefix (from two characters) of every word of the names and e-mails, plus whole e-mails."""
    tokens: set[str] = set()
    for text in (*names, *emails):
        for word in words(text):
            tokens.update(word[:n] for n in range(MIN_PREFIX, len(word) + 1))
    tokens.update(normalise(e).strip() for e in emails)
    return sorted(tokens)


def is_address(search: str) -> bool:
    """Whether a search is one whole e-mail address (matched whole, not by words)."""
    text = search.strip()
    return "@" in text and " " not in text


def query_terms(search: str) -> list[str]:
    """The words (two characters or more) a search must all match; an e-mail address is matched whole."""
    if is_address(search):
        return [normalise(search.strip())]
    return [w for w in words(search) if len(w) >= MIN_PREFIX][:MAX_TERMS]


def name_word_pattern(term: str) -> str:
    """A pattern finding ``term`` at the start of a word of ``sort_name``'s text, which holds the names alone.

    Search tokens mix names and e-mails; a term that must match names only must also match this.
    """
    return f"(?:^|[^a-z0-9]){re.escape(term)}"


def sort_name(given_name: str, family_name: str) -> str:
    """The key customers are listed by: family name, then given name, normalised."""
    return f"{normalise(family_name).strip()} {normalise(given_name).strip()}"
