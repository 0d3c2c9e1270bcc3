from django.apps import AppConfig


class AddressesConfig(AppConfig):
    name = "egov.registries.addresses"
    label = "registry_addresses"
    verbose_name = "Addresses register"
