"""The demo country's accounts, one per role. Shown on the start page in demo mode only.

The TOTP secrets are fixed so a trainer can hand them out (and tests can compute codes);
`egov demo-code EMAIL` prints an account's current code."""

from __future__ import annotations

from dataclasses import dataclass, field

from egov.identity.services import totp_key_base32

DEMO_PASSWORD = "demo-Pass-2026"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    kind: str
    last_name: str
    first_name: str
    patronymic: str
    role_label: str
    personal_number: str | None = None
    agency_code: str | None = None
    official_role: str = ""
    totp_secret_hex: str | None = None
    representations: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def totp_secret_base32(self) -> str | None:
        if self.totp_secret_hex is None:
            return None
        return totp_key_base32(self.totp_secret_hex)


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        email="citizen@demo.egov.example",
        kind="citizen",
        last_name="Каваленка",
        first_name="Алена",
        patronymic="Сяргееўна",
        role_label="citizen",
        personal_number="4150592M012PB5",
        totp_secret_hex="3932333435363738393031323334353637383938",
    ),
    DemoAccount(
        email="business@demo.egov.example",
        kind="business",
        last_name="Шымановіч",
        first_name="Андрэй",
        patronymic="Іванавіч",
        role_label="business",
        personal_number="3010180A001PB8",
        totp_secret_hex="3032333435363738393031323334353637383939",
        representations=(("192541238", "ТАА «Лясны край»"), ("MA1953684", "ІП Шымановіч А. І.")),
    ),
    DemoAccount(
        email="clerk.mvd@demo.egov.example",
        kind="official",
        last_name="Новік",
        first_name="Марына",
        patronymic="Пятроўна",
        role_label="clerk",
        agency_code="MVD",
        official_role="clerk",
        totp_secret_hex="3132333435363738393031323334353637383930",
    ),
    DemoAccount(
        email="decider.mvd@demo.egov.example",
        kind="official",
        last_name="Лукашэвіч",
        first_name="Павел",
        patronymic="Мікалаевіч",
        role_label="decision_maker",
        agency_code="MVD",
        official_role="decision_maker",
        totp_secret_hex="3232333435363738393031323334353637383931",
    ),
    DemoAccount(
        email="clerk.mintruda@demo.egov.example",
        kind="official",
        last_name="Гарэлік",
        first_name="Вольга",
        patronymic="Аляксандраўна",
        role_label="clerk",
        agency_code="MINTRUDA",
        official_role="clerk",
        totp_secret_hex="3332333435363738393031323334353637383932",
    ),
    DemoAccount(
        email="decider.mintruda@demo.egov.example",
        kind="official",
        last_name="Цыбульскі",
        first_name="Віктар",
        patronymic="Сцяпанавіч",
        role_label="decision_maker",
        agency_code="MINTRUDA",
        official_role="decision_maker",
        totp_secret_hex="3432333435363738393031323334353637383933",
    ),
    DemoAccount(
        email="clerk.minjust@demo.egov.example",
        kind="official",
        last_name="Шаўчук",
        first_name="Ірына",
        patronymic="Віктараўна",
        role_label="clerk",
        agency_code="MINJUST",
        official_role="clerk",
        totp_secret_hex="3632333435363738393031323334353637383935",
    ),
    DemoAccount(
        email="clerk.mgi@demo.egov.example",
        kind="official",
        last_name="Бабровіч",
        first_name="Дзмітрый",
        patronymic="Юр'евіч",
        role_label="clerk",
        agency_code="MGI",
        official_role="clerk",
        totp_secret_hex="3732333435363738393031323334353637383936",
    ),
    DemoAccount(
        email="decider.mgi@demo.egov.example",
        kind="official",
        last_name="Жук",
        first_name="Таццяна",
        patronymic="Міхайлаўна",
        role_label="decision_maker",
        agency_code="MGI",
        official_role="decision_maker",
        totp_secret_hex="3832333435363738393031323334353637383937",
    ),
    DemoAccount(
        email="clerk.mns@demo.egov.example",
        kind="official",
        last_name="Мароз",
        first_name="Святлана",
        patronymic="Генадзьеўна",
        role_label="clerk",
        agency_code="MNS",
        official_role="clerk",
        totp_secret_hex="4132333435363738393031323334353637383941",
    ),
    DemoAccount(
        email="decider.mns@demo.egov.example",
        kind="official",
        last_name="Кавалёў",
        first_name="Алег",
        patronymic="Пятровіч",
        role_label="decision_maker",
        agency_code="MNS",
        official_role="decision_maker",
        totp_secret_hex="4232333435363738393031323334353637383942",
    ),
    DemoAccount(
        email="admin@demo.egov.example",
        kind="admin",
        last_name="Сідарэнка",
        first_name="Ігар",
        patronymic="Уладзіміравіч",
        role_label="admin",
        totp_secret_hex="3532333435363738393031323334353637383934",
    ),
)
