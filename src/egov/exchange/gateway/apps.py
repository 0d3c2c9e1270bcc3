from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "egov.exchange.gateway"
    label = "exchange_gateway"
    verbose_name = "Exchange gateway"
