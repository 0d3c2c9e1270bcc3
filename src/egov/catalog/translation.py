"""Which catalogue fields exist in three languages."""

from modeltranslation.translator import TranslationOptions, register

from egov.catalog.models import Agency, Category, LifeEvent, Service


@register(Agency)
class AgencyTranslation(TranslationOptions):
    fields = ("name", "short_name", "description", "address")


@register(Category)
class CategoryTranslation(TranslationOptions):
    fields = ("name", "description")


@register(LifeEvent)
class LifeEventTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Service)
class ServiceTranslation(TranslationOptions):
    fields = (
        "name",
        "summary",
        "description",
        "who_can_apply",
        "documents",
        "result",
        "legal_basis",
        "fee_note",
        "processing_note",
    )
