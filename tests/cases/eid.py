"""A person's e-ID for tests: a P-256 signing key, its certificate with the personal number
as the subject's serialNumber, and detached CMS signatures over a digest made by pyHanko (as
the local signer makes them)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import threading
from dataclasses import dataclass
from typing import Any
from unittest import mock

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes, SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


@dataclass
class Authority:
    """A throwaway CA: certificates and CMS shapes only, no trust."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, name: str = "Test e-ID CA") -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    def issue(self, personal_number: str, *, surname: str, given_name: str) -> EId:
        from tests.trust.signer_support import TestCa, eid_certificate

        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        certificate = eid_certificate(
            TestCa(self.key, self.certificate),
            key.public_key(),
            purpose="signing",
            subject=x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{surname} {given_name}"),
                    x509.NameAttribute(NameOID.SURNAME, surname),
                    x509.NameAttribute(NameOID.GIVEN_NAME, given_name),
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, f"PNOBY-{personal_number}"),
                ]
            ),
            not_before=now - datetime.timedelta(hours=1),
        )
        return EId(certificate=certificate, key=key, chain=(self.certificate,))


@dataclass
class EId:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...]

    def _signer(self) -> SimpleSigner:
        key = asn1_keys.PrivateKeyInfo.load(
            self.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return SimpleSigner(
            signing_cert=asn1_x509.Certificate.load(_der(self.certificate)),
            signing_key=key,
            cert_registry=SimpleCertificateStore.from_certs(
                [asn1_x509.Certificate.load(_der(item)) for item in self.chain]
            ),
        )

    def sign(self, digest: bytes, *, at: datetime.datetime | None = None) -> bytes:
        """A detached CMS SignedData over ``digest`` (its messageDigest), as DER. Run in a
        thread of its own: browser tests keep an event loop running in the main thread."""
        signing_time = at or datetime.datetime.now(datetime.UTC)
        result: dict[str, Any] = {}

        def run() -> None:
            content_info = asyncio.run(
                self._signer().async_sign(
                    digest,
                    "sha256",
                    is_pdf_sig=False,
                    signed_attr_settings=PdfCMSSignedAttributes(signing_time=signing_time),
                )
            )
            result["der"] = content_info.dump()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        return bytes(result["der"])

    def sign_base64(self, digest: bytes, **kwargs: Any) -> str:
        return base64.b64encode(self.sign(digest, **kwargs)).decode("ascii")

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def chain_pem(self) -> str:
        return "".join(
            item.public_bytes(serialization.Encoding.PEM).decode("ascii") for item in self.chain
        )


def platform_eid(
    directory: Any,
    personal_number: str,
    *,
    surname: str,
    given_name: str,
    name: str = "",
    expired_ago: datetime.timedelta | None = None,
) -> EId:
    """An e-ID signing certificate issued by the platform's own PKI in ``directory`` (as the
    demo issues them): the person keeps the key, the PKI's index knows the certificate.

    With ``expired_ago`` the certificate is issued as long before as its profile's validity
    and so expired that long ago; its status is still known to the PKI (good, not unknown), as
    a real e-ID's is the day after it expires."""
    from egov.trust.pki import ca_certificates, certificate_issue
    from egov.trust.pki.profiles import profile_get

    key = ec.generate_private_key(ec.SECP256R1())
    issuing_clock: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if expired_ago is not None:
        validity = profile_get("citizen-signing").validity
        issued_at = datetime.datetime.now(datetime.UTC) - validity - expired_ago
        issuing_clock = mock.patch("egov.trust.pki.ca._now", return_value=issued_at)
    with issuing_clock:
        issued = certificate_issue(
            directory=directory,
            profile="citizen-signing",
            common_name=f"{surname} {given_name}",
            name=name or f"test-eid-{personal_number}-{x509.random_serial_number()}",
            given_name=given_name,
            surname=surname,
            personal_number=personal_number,
            country="BY",
            base_url="http://127.0.0.1:8000",
            public_key=key.public_key(),
        )
    assert issued.certificate is not None
    _root, issuing = ca_certificates(directory=directory)
    return EId(certificate=issued.certificate, key=key, chain=(issuing,))


#: A VAT registration the demo business's director signs (the back office's and the
#: re-check's tests).
VAT = "MNS-VAT-REG"
TRADER = "MA1953684"
DIRECTOR = "3010180A001PB8"
VAT_ANSWERS = {"reason": "voluntary", "vat_from": "2027-02-01", "email": "b@example.org"}


def vat_registration_signed(exchange: Any, pki: Any, settings: Any, tmp_path: Any) -> Any:
    """A VAT registration signed by the director half a minute ago (a revocation in the
    test's own second comes after it) and submitted now; returns it and the director's e-ID."""
    from django.utils import timezone

    from egov.cases import services
    from egov.cases.signatures import signature_submission_parse, submission_content
    from egov.core.worker import tasks_run_pending
    from egov.identity.models import User
    from tests.factories import published
    from tests.registrydata.stub import ENTITY_SERVICE

    settings.MEDIA_ROOT = tmp_path / "media"
    exchange.answer(ENTITY_SERVICE, TRADER, {"unp": TRADER, "status": "active"})
    business = User.objects.get(email="business@demo.egov.example")
    eid = platform_eid(pki, DIRECTOR, surname="Шымановіч", given_name="Андрэй")
    version = published(VAT)
    content = submission_content(
        service_code=VAT, version_number=version.number, answers=VAT_ANSWERS, attachments=[]
    )
    application, _created = services.application_submit(
        applicant=business,
        version=version,
        data=VAT_ANSWERS,
        idempotency_key="signed-vat",
        language="en",
        on_behalf_unp=TRADER,
        signature=signature_submission_parse(
            cms_base64=eid.sign_base64(
                content.digest, at=timezone.now() - datetime.timedelta(seconds=30)
            ),
            certificate_pem=eid.certificate_pem,
        ),
    )
    tasks_run_pending()
    application.refresh_from_db()
    return application, eid
