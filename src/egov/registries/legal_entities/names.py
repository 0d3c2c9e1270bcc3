"""Names of synthetic companies and sole traders, in Belarusian and Russian."""

from __future__ import annotations

import random

# Masculine adjectives and nouns, so that any pair agrees: (Belarusian, Russian).
_ADJECTIVES = (
    ("Лясны", "Лесной"), ("Белы", "Белый"), ("Новы", "Новый"), ("Залаты", "Золотой"),
    ("Зялёны", "Зелёный"), ("Паўночны", "Северный"), ("Заходні", "Западный"),
    ("Чысты", "Чистый"), ("Добры", "Добрый"), ("Вялікі", "Великий"), ("Стары", "Старый"),
    ("Сонечны", "Солнечный"), ("Палескі", "Полесский"), ("Нёманскі", "Неманский"),
)  # fmt: skip
_NOUNS = (
    ("край", "край"), ("дом", "дом"), ("двор", "двор"), ("млын", "мельник"),
    ("шлях", "путь"), ("сад", "сад"), ("бераг", "берег"), ("свет", "свет"),
    ("стандарт", "стандарт"), ("транзіт", "транзит"), ("партнёр", "партнёр"),
    ("альянс", "альянс"), ("прамень", "луч"), ("хутар", "хутор"),
)  # fmt: skip
_FORMS = {
    "llc": (
        "Таварыства з абмежаванай адказнасцю", "ТАА",
        "Общество с ограниченной ответственностью", "ООО",
    ),
    "jsc": ("Адкрытае акцыянернае таварыства", "ААТ", "Открытое акционерное общество", "ОАО"),
    "unitary": (
        "Прыватнае вытворча-гандлёвае ўнітарнае прадпрыемства", "ПВГУП",
        "Частное производственно-торговое унитарное предприятие", "ЧПТУП",
    ),
}  # fmt: skip


def company_names(form: str, rng: random.Random) -> tuple[str, str, str, str]:
    """(name be, name ru, short name be, short name ru) of a company of ``form``."""
    adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
    name_be, name_ru = f"{adjective[0]} {noun[0]}", f"{adjective[1]} {noun[1]}"
    long_be, short_be, long_ru, short_ru = _FORMS[form]
    return (
        f"{long_be} «{name_be}»",
        f"{long_ru} «{name_ru}»",
        f"{short_be} «{name_be}»",
        f"{short_ru} «{name_ru}»",
    )


def _initials(full_name: str) -> str:
    last, *rest = full_name.split()
    return " ".join([last, *(f"{part[0]}." for part in rest)])


def sole_trader_names(full_name_be: str, full_name_ru: str) -> tuple[str, str, str, str]:
    return (
        f"Індывідуальны прадпрымальнік {full_name_be}",
        f"Индивидуальный предприниматель {full_name_ru}",
        f"ІП {_initials(full_name_be)}",
        f"ИП {_initials(full_name_ru)}",
    )
