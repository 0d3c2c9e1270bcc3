"""Fills a SoftHSM2 token with an e-ID (run as a program, with SOFTHSM2_CONF set, so the
module is loaded with that configuration in a process of its own): both key pairs made in
the token, their certificates from a test CA, and the CA certificate; writes the CA's PEM.

    python -m tests.trust.signer_token MODULE TOKEN PIN CA_PEM_OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

from tests.trust.signer_support import ca_make, eid_certificate

PERSONAL_NUMBER = "4150592M012PB5"


def main(module: str, token_label: str, pin: str, ca_out: str) -> None:
    ca = ca_make()
    token = pkcs11.lib(module).get_token(token_label=token_label)
    with token.open(rw=True, user_pin=pin) as session:
        parameters = session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        for purpose in ("authentication", "signing"):
            public, _private = parameters.generate_keypair(store=True, label=purpose)
            public_key = serialization.load_der_public_key(encode_ec_public_key(public))
            subject = x509.Name(
                [
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, f"PNOBY-{PERSONAL_NUMBER}"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "Алена Каваленка"),
                ]
            )
            certificate = eid_certificate(
                ca,
                public_key,  # type: ignore[arg-type]
                purpose=purpose,
                subject=subject,
                not_before=ca.certificate.not_valid_before_utc,
                not_after=ca.certificate.not_valid_after_utc,
            )
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.LABEL: purpose,
                    Attribute.SUBJECT: subject.public_bytes(),
                    Attribute.VALUE: certificate.public_bytes(serialization.Encoding.DER),
                }
            )
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: "ca",
                Attribute.SUBJECT: ca.certificate.subject.public_bytes(),
                Attribute.VALUE: ca.certificate.public_bytes(serialization.Encoding.DER),
            }
        )
    Path(ca_out).write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))


if __name__ == "__main__":
    main(*sys.argv[1:5])
