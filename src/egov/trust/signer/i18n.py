"""The signer's own pages in Belarusian, Russian or English, without Django: the texts come
from the platform's message catalogues (``egov/locale``), read with the standard library."""

from __future__ import annotations

import gettext as stdlib_gettext
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent.parent / "locale"
LANGUAGES = ("be", "ru", "en")
DEFAULT_LANGUAGE = "be"


@cache
def _catalogue(language: str) -> stdlib_gettext.NullTranslations:
    return stdlib_gettext.translation(
        "django", localedir=LOCALE_DIR, languages=[language], fallback=True
    )


def language_choose(*, requested: str | None, accept_language: str | None) -> str:
    """The ``lang`` parameter when it is one of ours, else the first of ours in
    Accept-Language (by its q values), else Belarusian."""
    if requested in LANGUAGES:
        return str(requested)
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, position, primary))
    return sorted(choices)[0][2] if choices else DEFAULT_LANGUAGE


class Translator:
    """``_`` for one language; the msgids are the English texts, as everywhere in egov."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, message: str) -> str:
        if self.language == "en":
            return message
        return _catalogue(self.language).gettext(message)


def gettext_noop(message: str) -> str:
    """Marks a text for the catalogues where it is translated later."""
    return message
