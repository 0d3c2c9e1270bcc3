"""The address register: the places the population and legal entities registers point to."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Address(models.Model):
    """One address as the cadastre agency keeps it. ``locality`` and ``street`` are the
    register's reference spelling (Russian, with the type: "г. Минск", "ул. Сурганова");
    ``text_be`` and ``text_ru`` are the whole address for printing."""

    region = models.CharField(_("region"), max_length=64)
    district = models.CharField(_("district"), max_length=64, blank=True)
    locality = models.CharField(_("locality"), max_length=100)
    street = models.CharField(_("street"), max_length=100, blank=True)
    house = models.CharField(_("house"), max_length=16)
    flat = models.CharField(_("flat"), max_length=16, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=6, db_index=True)
    text_be = models.CharField(_("address in Belarusian"), max_length=300)
    text_ru = models.CharField(_("address in Russian"), max_length=300)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text_be

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.pk,
            "postal_code": self.postal_code,
            "locality": self.locality,
            "street": self.street,
            "house": self.house,
            "flat": self.flat,
            "text": {"be": self.text_be, "ru": self.text_ru},
        }
