"""The message catalogues are complete: every string the code and templates mark for
translation has a Belarusian and a Russian translation, and the committed .mo files are the
compiled form of the .po files. Checked without GNU gettext, so it runs anywhere."""

from __future__ import annotations

import ast
import gettext
import io
import re
import tokenize
from pathlib import Path

import polib
import pytest
from django.utils.translation.template import templatize

SRC = Path(__file__).resolve().parents[2] / "src" / "egov"
LOCALE = SRC / "locale"
GETTEXT_NAMES = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def _python_messages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        first = node.args[0]
        if (
            name in GETTEXT_NAMES
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
        ):
            found.add(first.value)
    return found


def _template_messages(path: Path) -> set[str]:
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    # Only the gettext calls matter; indentation of the placeholder text would trip tokenize.
    code = "\n".join(line.lstrip() for line in code.splitlines())
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    found = set()
    for index, token in enumerate(tokens):
        if (
            token.type == tokenize.NAME
            and token.string in GETTEXT_NAMES
            and index + 2 < len(tokens)
            and tokens[index + 1].string == "("
            and tokens[index + 2].type == tokenize.STRING
        ):
            found.add(ast.literal_eval(tokens[index + 2].string))
    return found


def source_messages() -> set[str]:
    messages: set[str] = set()
    for path in SRC.rglob("*.py"):
        if "migrations" not in path.parts:
            messages |= _python_messages(path)
    for path in list(SRC.rglob("*.html")) + list(SRC.rglob("*.txt")):
        if "templates" in path.parts:
            messages |= _template_messages(path)
    return messages


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def test_extraction_finds_known_strings():
    messages = source_messages()
    assert "Search for a service" in messages  # a template string
    assert "Enter your email address" in messages  # a Python string
    assert "%(counter)s service" in messages  # a blocktranslate plural


@pytest.mark.parametrize("language", ["be", "ru"])
def test_every_marked_string_is_translated(language):
    po = catalogue(language)
    translated = {
        entry.msgid
        for entry in po
        if not entry.obsolete and "fuzzy" not in entry.flags and entry.translated()
    }
    missing = sorted(source_messages() - translated)
    assert missing == [], f"{len(missing)} strings lack a {language} translation: {missing[:10]}"


@pytest.mark.parametrize("language", ["be", "ru"])
def test_translations_keep_their_placeholders(language):
    for entry in catalogue(language):
        if entry.msgid_plural:
            for text in entry.msgstr_plural.values():
                assert set(PLACEHOLDER.findall(text)) <= set(
                    PLACEHOLDER.findall(entry.msgid_plural)
                ) | set(PLACEHOLDER.findall(entry.msgid)), entry.msgid
        else:
            assert set(PLACEHOLDER.findall(entry.msgstr)) == set(
                PLACEHOLDER.findall(entry.msgid)
            ), entry.msgid


@pytest.mark.parametrize("language", ["be", "ru"])
def test_committed_mo_matches_po(language):
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in catalogue(language):
        if entry.obsolete or not entry.translated() or entry.msgid == "":
            continue
        if entry.msgid_plural:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0]
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid
