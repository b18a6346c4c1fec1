"""Search tokens for names and e-mail addresses (no text index needed).

Each word is transliterated to lower-case ASCII and stored with its prefixes, so a search for "mar gar" finds
"María García" through one multikey index with ``$all``. Transliteration (anyascii) also covers letters that
do not decompose into a base letter and an accent: "bjorn odegard" finds "Bjørn Ødegård", "lukasz" finds
"Łukasz", "strasse" finds "Straße", and names in other scripts get their usual Latin spelling.

Names have tokens of their own too: a caller who sees e-mails masked searches those alone, so a search
cannot confirm or rebuild an address it may not see. The tokens are derived data: ``TOKENS_VERSION`` names
how they are built, and customers stored with tokens of an older version are brought up to date at
start-up (``CustomerRepository.refresh_search_tokens``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

from anyascii import anyascii

MIN_PREFIX = 2
MAX_TOKEN = 24
MAX_TERMS = 8
# Raise it whenever a change here changes the tokens of a stored customer.
TOKENS_VERSION = 3
_WORD = re.compile(r"[a-z0-9]+")


class WordKind(StrEnum):
    """Where a search word is looked for: each caller searches only the kinds it may see in full."""

    NAME = "NAME"  # the words of the given and family names
    EMAIL = "EMAIL"  # the words of the e-mail addresses, and whole addresses


def fold(text: str) -> str:
    """``text`` as lower-case ASCII: accents dropped, other letters and scripts transliterated."""
    return anyascii(unicodedata.normalize("NFKC", text)).lower()


def normalise(text: str) -> str:
    """Lower-case ``text`` and strip its accents (the sort key; letters without a base letter stay)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The folded words of ``text``, each cut to the longest indexed length."""
    return [w[:MAX_TOKEN] for w in _WORD.findall(fold(text))]


def index_tokens(names: Iterable[str], emails: Iterable[str]) -> list[str]:
    """Every prefix (from two characters) of every word of the names and e-mails, plus whole e-mails."""
    tokens = set(name_tokens(names))
    for email in emails:
        tokens.update(_prefixes(email))
    tokens.update(fold(e).strip() for e in emails)
    return sorted(tokens)


def name_tokens(names: Iterable[str]) -> list[str]:
    """Every prefix (from two characters) of every word of the names alone: what a caller who sees
    e-mails masked may search."""
    return sorted({prefix for text in names for prefix in _prefixes(text)})


def _prefixes(text: str) -> set[str]:
    return {word[:n] for word in words(text) for n in range(MIN_PREFIX, len(word) + 1)}


def is_address(search: str) -> bool:
    """Whether a search is one whole e-mail address (matched whole, not by words)."""
    text = search.strip()
    return "@" in text and " " not in text


def query_terms(search: str) -> list[str]:
    """The words (two characters or more) a search must all match; an e-mail address is matched whole."""
    if is_address(search):
        return [fold(search.strip())]
    return [w for w in words(search) if len(w) >= MIN_PREFIX][:MAX_TERMS]


def sort_name(given_name: str, family_name: str) -> str:
    """The key customers are listed by: family name, then given name, normalised."""
    return f"{normalise(family_name).strip()} {normalise(given_name).strip()}"
