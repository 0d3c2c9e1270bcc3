"""The population register: people, where they are registered, their families and documents."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from egov.registries.addresses.models import Address
from egov.registries.shared.models import DataAccessBase, EventBase


class Sex(models.TextChoices):
    MALE = "M", _("male")
    FEMALE = "F", _("female")


class LifeStatus(models.TextChoices):
    ALIVE = "alive", _("alive")
    DECEASED = "deceased", _("deceased")


class Person(models.Model):
    """A person with an identification number. Names are kept as the documents print them:
    in Belarusian, in Russian and in Latin letters (transliterated from Belarusian)."""

    personal_number = models.CharField(_("identification number"), max_length=14, unique=True)
    last_name_be = models.CharField(_("last name (Belarusian)"), max_length=100)
    last_name_ru = models.CharField(_("last name (Russian)"), max_length=100)
    last_name_lat = models.CharField(_("last name (Latin)"), max_length=100)
    first_name_be = models.CharField(_("first name (Belarusian)"), max_length=100)
    first_name_ru = models.CharField(_("first name (Russian)"), max_length=100)
    first_name_lat = models.CharField(_("first name (Latin)"), max_length=100)
    patronymic_be = models.CharField(_("patronymic (Belarusian)"), max_length=100, blank=True)
    patronymic_ru = models.CharField(_("patronymic (Russian)"), max_length=100, blank=True)
    patronymic_lat = models.CharField(_("patronymic (Latin)"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    citizenship = models.CharField(_("citizenship"), max_length=2, default="BY")
    status = models.CharField(
        _("status"), max_length=8, choices=LifeStatus.choices, default=LifeStatus.ALIVE
    )
    death_date = models.DateField(_("death date"), null=True, blank=True)
    address = models.ForeignKey(
        Address,
        verbose_name=_("registered address"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.personal_number} {self.last_name_be} {self.first_name_be}"

    @property
    def full_name_be(self) -> str:
        return " ".join(p for p in (self.last_name_be, self.first_name_be, self.patronymic_be) if p)


class RegistrationKind(models.TextChoices):
    RESIDENCE = "residence", _("place of residence")
    STAY = "stay", _("place of stay")


class AddressRegistration(models.Model):
    """Registration at a place of residence or of stay, from a date until a date (or now)."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="registrations"
    )
    address = models.ForeignKey(
        Address, verbose_name=_("address"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=9, choices=RegistrationKind.choices)
    valid_from = models.DateField(_("from"))
    valid_until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("address registration")
        verbose_name_plural = _("address registrations")
        ordering = ["person", "valid_from", "id"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.kind} {self.valid_from}"


class ParentChild(models.Model):
    parent = models.ForeignKey(
        Person, verbose_name=_("parent"), on_delete=models.CASCADE, related_name="child_links"
    )
    child = models.ForeignKey(
        Person, verbose_name=_("child"), on_delete=models.CASCADE, related_name="parent_links"
    )

    class Meta:
        verbose_name = _("parent and child")
        verbose_name_plural = _("parents and children")
        constraints = [
            models.UniqueConstraint(fields=["parent", "child"], name="population_parent_child")
        ]

    def __str__(self) -> str:
        return f"{self.parent_id} → {self.child_id}"


class Marriage(models.Model):
    """A marriage; it ends (``ended_on``) by divorce or the death of a spouse."""

    husband = models.ForeignKey(
        Person, verbose_name=_("husband"), on_delete=models.CASCADE, related_name="+"
    )
    wife = models.ForeignKey(
        Person, verbose_name=_("wife"), on_delete=models.CASCADE, related_name="+"
    )
    married_on = models.DateField(_("married on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        verbose_name = _("marriage")
        verbose_name_plural = _("marriages")

    def __str__(self) -> str:
        return f"{self.husband_id} + {self.wife_id} {self.married_on}"


class DocumentType(models.TextChoices):
    PASSPORT = "passport", _("passport")
    ID_CARD = "id_card", _("identity card")
    BIRTH_CERTIFICATE = "birth_certificate", _("birth certificate")


class IdentityDocument(models.Model):
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="documents"
    )
    type = models.CharField(_("type"), max_length=17, choices=DocumentType.choices)
    number = models.CharField(_("number"), max_length=20, db_index=True)
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    authority = models.CharField(_("issued by"), max_length=200)

    class Meta:
        verbose_name = _("identity document")
        verbose_name_plural = _("identity documents")
        ordering = ["person", "issued_on", "id"]

    def __str__(self) -> str:
        return f"{self.type} {self.number}"


class DataAccess(DataAccessBase):
    class Meta(DataAccessBase.Meta):
        verbose_name = _("access to personal data")
        verbose_name_plural = _("accesses to personal data")
        indexes = [models.Index(fields=["subject", "-at"], name="population_access_subject")]


class EventType(models.TextChoices):
    BIRTH = "birth", _("birth")
    DEATH = "death", _("death")
    MARRIAGE = "marriage", _("marriage")
    ADDRESS_CHANGE = "address_change", _("change of address")


class Event(EventBase):
    type = models.CharField(_("type"), max_length=32, choices=EventType.choices)

    class Meta(EventBase.Meta):
        verbose_name = _("event")
        verbose_name_plural = _("events")


class GeneratorRun(models.Model):
    """A run of ``egov registry generate``. Identifiers are derived from a row's index, so a
    new run starts after the indexes every earlier run reserved, even one that failed."""

    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    seed = models.BigIntegerField(_("seed"))
    first_person = models.BigIntegerField(_("index of the first person"))
    persons = models.BigIntegerField(_("persons"))
    first_address = models.BigIntegerField(_("index of the first address"))
    addresses = models.BigIntegerField(_("addresses reserved"))
    first_company = models.BigIntegerField(_("index of the first company"))
    companies = models.BigIntegerField(_("companies"))

    class Meta:
        verbose_name = _("generator run")
        verbose_name_plural = _("generator runs")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.persons}"
