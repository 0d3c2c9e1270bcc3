from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "egov.trust"
    label = "trust"
    verbose_name = "Trust services"

    def ready(self) -> None:
        from django.conf import settings

        from egov.trust.pki.keys import key_passphrase_configure

        # Every key the PKI writes or reads in this process uses it (the gateways' too).
        key_passphrase_configure(settings.PKI_KEY_PASSPHRASE)

        # The audit ledger sits below egov.trust: its tree heads are signed by the `ledger`
        # key handed to it here (loaded when a head is signed, wherever the key lives).
        from egov.audit.signing import head_signers

        if "ledger" not in head_signers:
            head_signers.register("ledger")(_ledger_signer)

        from egov.audit.signing import head_trust
        from egov.trust.ledger import PlatformHeadTrust

        if "platform" not in head_trust:
            head_trust.register("platform")(PlatformHeadTrust())


def _ledger_signer():
    from egov.trust.keys import signing_key

    return signing_key("ledger")
