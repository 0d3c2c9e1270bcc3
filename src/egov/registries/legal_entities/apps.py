from django.apps import AppConfig


class LegalEntitiesConfig(AppConfig):
    name = "egov.registries.legal_entities"
    label = "registry_legal_entities"
    verbose_name = "Legal entities register"
