"""Turning text into search terms that match across word forms.

Russian and English use the Snowball stemmers (the same algorithms PostgreSQL's dictionaries
use). Belarusian has no Snowball stemmer and no PostgreSQL dictionary, so it gets a light
suffix stripper: Belarusian inflection is close to Russian, and cutting the common endings
makes "пашпарт", "пашпарта" and "пашпартам" one term.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"\w+", re.UNICODE)
_STEMMERS = {
    "ru": snowballstemmer.stemmer("russian"),
    "en": snowballstemmer.stemmer("english"),
}
# Verb, adjective and noun endings of Belarusian, tried longest first.
_ENDINGS = (
    "ацца ецца ыцца іцца ага аму амі ахі аць ему ець ога ому уць цца ымі ыць юць яга яму ямі "
    "яць імі іць ае ай ам ах аю ая ей ое ой ою ую ць ым ых ыя эй юю ям ях яя ёю ім іх ія а е о "
    "у ы ь ю я і ў"
)
_BELARUSIAN_ENDINGS = sorted(set(_ENDINGS.split()), key=len, reverse=True)
MIN_STEM = 3
MAX_TERMS = 12
MAX_TERM_LENGTH = 40


def _belarusian_stem(word: str) -> str:
    for ending in _BELARUSIAN_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


@lru_cache(maxsize=20000)
def stem(word: str, language: str) -> str:
    word = word.lower().replace("ё", "е")
    if language == "be":
        return _belarusian_stem(word)
    stemmer = _STEMMERS.get(language)
    return stemmer.stemWord(word) if stemmer else word


def words(text: str) -> list[str]:
    return [word for word in _WORD.findall(text or "") if len(word) <= MAX_TERM_LENGTH]


def index_terms(text: str, language: str) -> str:
    """The text of a document as a space-separated string of stems, for the index."""
    return " ".join(stem(word, language) for word in words(text))


def query_terms(query: str, language: str) -> list[str]:
    """The distinct stems of a query, in order, at most MAX_TERMS of them."""
    seen: dict[str, None] = {}
    for word in words(query[:500]):
        term = stem(word, language)
        if term:
            seen.setdefault(term, None)
        if len(seen) >= MAX_TERMS:
            break
    return list(seen)
