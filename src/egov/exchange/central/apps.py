from django.apps import AppConfig


class CentralConfig(AppConfig):
    name = "egov.exchange.central"
    label = "exchange_central"
    verbose_name = "Central registry of the exchange"
