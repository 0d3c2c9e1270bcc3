"""Values every page needs: the language switcher's links and whether this is the demo."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language

LANGUAGE_SELF_NAMES = {"be": "Беларуская", "ru": "Русский", "en": "English"}


def platform(request: HttpRequest) -> dict[str, Any]:
    current = get_language() or settings.LANGUAGE_CODE
    path = request.get_full_path()
    languages = [
        {
            "code": code,
            "name": LANGUAGE_SELF_NAMES[code],
            "url": translate_url(path, code),
            "current": code == current,
        }
        for code, _name in settings.LANGUAGES
    ]
    return {
        "egov_languages": languages,
        "egov_demo": settings.DEMO_MODE,
    }
