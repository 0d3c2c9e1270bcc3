from django.apps import AppConfig


class PopulationConfig(AppConfig):
    name = "egov.registries.population"
    label = "registry_population"
    verbose_name = "Population register"
