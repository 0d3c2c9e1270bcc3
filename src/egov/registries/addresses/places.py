"""Places of Belarus for synthetic addresses: regions, towns and common street names.

Each locality has the region letter used in identification numbers (A Brest, B Vitebsk,
C Gomel, K Grodno, E Mogilev, H Minsk region, M Minsk city), its postal code and a weight
roughly proportional to its population."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Locality:
    region_be: str
    region_ru: str
    district_be: str
    district_ru: str
    name_be: str
    name_ru: str
    postal_code: str
    region_letter: str
    weight: int


_BREST = ("Брэсцкая вобласць", "Брестская область")
_VITEBSK = ("Віцебская вобласць", "Витебская область")
_GOMEL = ("Гомельская вобласць", "Гомельская область")
_GRODNO = ("Гродзенская вобласць", "Гродненская область")
_MOGILEV = ("Магілёўская вобласць", "Могилёвская область")
_MINSK_REGION = ("Мінская вобласць", "Минская область")
_MINSK = ("г. Мінск", "г. Минск")

LOCALITIES: tuple[Locality, ...] = (
    Locality(*_MINSK, "", "", "г. Мінск", "г. Минск", "220000", "M", 200),
    Locality(*_GOMEL, "", "", "г. Гомель", "г. Гомель", "246000", "C", 50),
    Locality(*_MOGILEV, "", "", "г. Магілёў", "г. Могилёв", "212000", "E", 36),
    Locality(*_VITEBSK, "", "", "г. Віцебск", "г. Витебск", "210000", "B", 36),
    Locality(*_GRODNO, "", "", "г. Гродна", "г. Гродно", "230000", "K", 36),
    Locality(*_BREST, "", "", "г. Брэст", "г. Брест", "224000", "A", 34),
    Locality(
        *_MOGILEV,
        "Бабруйскі раён",
        "Бобруйский район",
        "г. Бабруйск",
        "г. Бобруйск",
        "213800",
        "E",
        21,
    ),
    Locality(
        *_BREST,
        "Баранавіцкі раён",
        "Барановичский район",
        "г. Баранавічы",
        "г. Барановичи",
        "225400",
        "A",
        17,
    ),
    Locality(
        *_MINSK_REGION,
        "Барысаўскі раён",
        "Борисовский район",
        "г. Барысаў",
        "г. Борисов",
        "222120",
        "H",
        14,
    ),
    Locality(*_BREST, "Пінскі раён", "Пинский район", "г. Пінск", "г. Пинск", "225710", "A", 13),
    Locality(
        *_VITEBSK, "Аршанскі раён", "Оршанский район", "г. Орша", "г. Орша", "211030", "B", 11
    ),
    Locality(
        *_GOMEL, "Мазырскі раён", "Мозырский район", "г. Мазыр", "г. Мозырь", "247760", "C", 11
    ),
    Locality(
        *_MINSK_REGION,
        "Салігорскі раён",
        "Солигорский район",
        "г. Салігорск",
        "г. Солигорск",
        "223710",
        "H",
        10,
    ),
    Locality(
        *_VITEBSK,
        "Полацкі раён",
        "Полоцкий район",
        "г. Наваполацк",
        "г. Новополоцк",
        "211440",
        "B",
        10,
    ),
    Locality(*_GRODNO, "Лідскі раён", "Лидский район", "г. Ліда", "г. Лида", "231300", "K", 10),
    Locality(
        *_MINSK_REGION,
        "Маладзечанскі раён",
        "Молодечненский район",
        "г. Маладзечна",
        "г. Молодечно",
        "222310",
        "H",
        9,
    ),
    Locality(
        *_VITEBSK, "Полацкі раён", "Полоцкий район", "г. Полацк", "г. Полоцк", "211400", "B", 8
    ),
    Locality(
        *_GOMEL, "Жлобінскі раён", "Жлобинский район", "г. Жлобін", "г. Жлобин", "247210", "C", 7
    ),
    Locality(*_GOMEL, "Рэчыцкі раён", "Речицкий район", "г. Рэчыца", "г. Речица", "247500", "C", 6),
    Locality(
        *_MINSK_REGION, "Слуцкі раён", "Слуцкий район", "г. Слуцк", "г. Слуцк", "223610", "H", 6
    ),
    Locality(*_MINSK_REGION, "", "", "г. Жодзіна", "г. Жодино", "222160", "H", 6),
    Locality(
        *_BREST, "Кобрынскі раён", "Кобринский район", "г. Кобрын", "г. Кобрин", "225300", "A", 5
    ),
    Locality(
        *_GRODNO, "Слонімскі раён", "Слонимский район", "г. Слонім", "г. Слоним", "231800", "K", 5
    ),
    Locality(
        *_MOGILEV,
        "Асіповіцкі раён",
        "Осиповичский район",
        "г. Асіповічы",
        "г. Осиповичи",
        "213760",
        "E",
        3,
    ),
    Locality(
        *_MINSK_REGION,
        "Валожынскі раён",
        "Воложинский район",
        "аг. Ракаў",
        "аг. Раков",
        "222363",
        "H",
        1,
    ),
    Locality(
        *_MINSK_REGION,
        "Мінскі раён",
        "Минский район",
        "аг. Ждановічы",
        "аг. Ждановичи",
        "223028",
        "H",
        3,
    ),
)

# (Belarusian, Russian): street names found in most Belarusian towns.
STREETS: tuple[tuple[str, str], ...] = (
    ("вул. Савецкая", "ул. Советская"),
    ("вул. Леніна", "ул. Ленина"),
    ("вул. Першамайская", "ул. Первомайская"),
    ("вул. Кастрычніцкая", "ул. Октябрьская"),
    ("вул. Гагарына", "ул. Гагарина"),
    ("вул. Пушкіна", "ул. Пушкина"),
    ("вул. Янкі Купалы", "ул. Янки Купалы"),
    ("вул. Якуба Коласа", "ул. Якуба Коласа"),
    ("вул. Максіма Багдановіча", "ул. Максима Богдановича"),
    ("вул. Францыска Скарыны", "ул. Франциска Скорины"),
    ("вул. Міра", "ул. Мира"),
    ("вул. Маладзёжная", "ул. Молодёжная"),
    ("вул. Садовая", "ул. Садовая"),
    ("вул. Школьная", "ул. Школьная"),
    ("вул. Чырвонаармейская", "ул. Красноармейская"),
    ("вул. Партызанская", "ул. Партизанская"),
    ("вул. Будаўнікоў", "ул. Строителей"),
    ("вул. Лясная", "ул. Лесная"),
    ("вул. Набярэжная", "ул. Набережная"),
    ("вул. Інтэрнацыянальная", "ул. Интернациональная"),
    ("вул. Камсамольская", "ул. Комсомольская"),
    ("вул. Чкалава", "ул. Чкалова"),
    ("вул. Маякоўскага", "ул. Маяковского"),
    ("вул. Гогаля", "ул. Гоголя"),
    ("вул. Фрунзе", "ул. Фрунзе"),
    ("вул. Кірава", "ул. Кирова"),
    ("вул. Юбілейная", "ул. Юбилейная"),
    ("вул. Цэнтральная", "ул. Центральная"),
    ("вул. Зялёная", "ул. Зелёная"),
    ("вул. Чэхава", "ул. Чехова"),
    ("пр-т Незалежнасці", "пр-т Независимости"),
    ("пр-т Пераможцаў", "пр-т Победителей"),
)


def address_texts(
    locality: Locality, street: tuple[str, str], house: str, flat: str
) -> tuple[str, str]:
    """The whole address in Belarusian and in Russian, as printed on a registration stamp."""
    texts = []
    for language in (0, 1):
        name = (locality.name_be, locality.name_ru)[language]
        district = (locality.district_be, locality.district_ru)[language]
        region = (locality.region_be, locality.region_ru)[language]
        parts = [locality.postal_code]
        if locality.region_letter != "M":
            parts.append(region)
            if district and name.startswith("аг."):
                parts.append(district)
        parts += [name, street[language], f"д. {house}"]
        if flat:
            parts.append(f"кв. {flat}")
        texts.append(", ".join(parts))
    return texts[0], texts[1]
