"""An e-ID file: one PKCS#12 (RFC 7292) holding both keys of a person, as on an ID card.

OpenSSL and ``cryptography`` read and write a PKCS#12 with one key only; an e-ID has two (the
authentication key and the signing key, friendly names ``authentication`` and ``signing``).
The structures are asn1crypto's, each key is a PKCS#8 shrouded key bag encrypted by
``cryptography`` (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) and the file carries the usual
HMAC-SHA256 integrity MAC, so ``openssl pkcs12`` reads the file too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from asn1crypto import algos, cms, keys, pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# RFC 7292 appendix B: the MAC key comes from the PKCS#12 key derivation (oscrypto's pure
# Python implementation; its package is a pyHanko dependency).
from oscrypto._pkcs12 import pkcs12_kdf

AUTHENTICATION = "authentication"
SIGNING = "signing"
MAC_ITERATIONS = 10_000


class Pkcs12Error(Exception):
    """The file is not an e-ID file, or the password is not right."""


class WrongPassword(Pkcs12Error):
    pass


@dataclass
class EidKeys:
    """What an e-ID file holds once opened: by friendly name, the key and its certificate."""

    keys: dict[str, ec.EllipticCurvePrivateKey] = field(default_factory=dict)
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)
    chain: list[x509.Certificate] = field(default_factory=list)


def _mac(password: str, salt: bytes, iterations: int, data: bytes) -> bytes:
    # The KDF turns the UTF-8 password into the BMPString RFC 7292 derives from.
    key = pkcs12_kdf("sha256", password.encode(), salt, iterations, 32, 3)
    return hmac.new(key, data, hashlib.sha256).digest()


def _attributes(name: str | None, local_key_id: bytes) -> pkcs12.Attributes:
    attributes = [{"type": "local_key_id", "values": [local_key_id]}]
    if name:
        attributes.insert(0, {"type": "friendly_name", "values": [name]})
    return pkcs12.Attributes(attributes)


def _cert_bag(
    certificate: x509.Certificate, name: str | None, local_key_id: bytes | None
) -> pkcs12.SafeBag:
    der = certificate.public_bytes(serialization.Encoding.DER)
    bag: dict[str, object] = {
        "bag_id": "cert_bag",
        "bag_value": pkcs12.CertBag(
            {"cert_id": "x509", "cert_value": asn1_x509.Certificate.load(der)}
        ),
    }
    if local_key_id is not None:
        bag["bag_attributes"] = _attributes(name, local_key_id)
    return pkcs12.SafeBag(bag)


def eid_pkcs12_write(
    *,
    entries: dict[str, tuple[ec.EllipticCurvePrivateKey, x509.Certificate]],
    chain: list[x509.Certificate],
    password: str,
) -> bytes:
    """A password-protected PKCS#12 with one key bag and one certificate bag per entry
    (friendly name = the entry's name) and the CA certificates of ``chain``."""
    if not password:
        raise Pkcs12Error("an e-ID file needs a password")
    key_bags = []
    cert_bags = []
    for name, (key, certificate) in entries.items():
        local_key_id = hashlib.sha1(  # noqa: S324 - the usual local key id, not a signature
            certificate.public_bytes(serialization.Encoding.DER)
        ).digest()
        encrypted = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode()),
        )
        key_bags.append(
            pkcs12.SafeBag(
                {
                    "bag_id": "pkcs8_shrouded_key_bag",
                    "bag_value": keys.EncryptedPrivateKeyInfo.load(encrypted),
                    "bag_attributes": _attributes(name, local_key_id),
                }
            )
        )
        cert_bags.append(_cert_bag(certificate, name, local_key_id))
    cert_bags += [_cert_bag(certificate, None, None) for certificate in chain]
    authenticated_safe = pkcs12.AuthenticatedSafe(
        [
            cms.ContentInfo(
                {"content_type": "data", "content": pkcs12.SafeContents(key_bags).dump()}
            ),
            cms.ContentInfo(
                {"content_type": "data", "content": pkcs12.SafeContents(cert_bags).dump()}
            ),
        ]
    ).dump()
    salt = secrets.token_bytes(16)
    pfx = pkcs12.Pfx(
        {
            "version": "v3",
            "auth_safe": cms.ContentInfo({"content_type": "data", "content": authenticated_safe}),
            "mac_data": pkcs12.MacData(
                {
                    "mac": algos.DigestInfo(
                        {
                            "digest_algorithm": {"algorithm": "sha256"},
                            "digest": _mac(password, salt, MAC_ITERATIONS, authenticated_safe),
                        }
                    ),
                    "mac_salt": salt,
                    "iterations": MAC_ITERATIONS,
                }
            ),
        }
    )
    return bytes(pfx.dump())


def _bag_name(bag: pkcs12.SafeBag) -> tuple[str | None, bytes | None]:
    name: str | None = None
    local_key_id: bytes | None = None
    attributes = bag["bag_attributes"]
    if attributes.native is None:
        return None, None
    for attribute in attributes:
        kind = attribute["type"].native
        if kind == "friendly_name":
            name = str(attribute["values"][0].native)
        elif kind == "local_key_id":
            local_key_id = bytes(attribute["values"][0].native)
    return name, local_key_id


def _parse(data: bytes) -> tuple[pkcs12.Pfx, bytes]:
    try:
        pfx = pkcs12.Pfx.load(data)
        if pfx["auth_safe"]["content_type"].native != "data":
            raise Pkcs12Error("only password-integrity e-ID files are supported")
        content = bytes(pfx["auth_safe"]["content"].native)
        return pfx, content
    except Pkcs12Error:
        raise
    except Exception as error:  # asn1crypto raises ValueError, TypeError and others
        raise Pkcs12Error(f"not a PKCS#12 file: {error}") from None


def _bags(content: bytes) -> list[pkcs12.SafeBag]:
    bags: list[pkcs12.SafeBag] = []
    try:
        for info in pkcs12.AuthenticatedSafe.load(content):
            if info["content_type"].native != "data":
                continue  # certificates encrypted with the password: not written by egov
            bags.extend(pkcs12.SafeContents.load(bytes(info["content"].native)))
    except Exception as error:
        raise Pkcs12Error(f"not a PKCS#12 file: {error}") from None
    return bags


def eid_pkcs12_certificates(data: bytes) -> EidKeys:
    """The certificates of an e-ID file by friendly name, without the password (they are
    not encrypted): what the signer shows before the person types the password."""
    _pfx, content = _parse(data)
    result = EidKeys()
    for bag in _bags(content):
        if bag["bag_id"].native != "cert_bag":
            continue
        certificate = x509.load_der_x509_certificate(bag["bag_value"]["cert_value"].parsed.dump())
        name, _local = _bag_name(bag)
        if name:
            result.certificates[name] = certificate
        else:
            result.chain.append(certificate)
    return result


def eid_pkcs12_open(data: bytes, password: str) -> EidKeys:
    """Check the MAC with the password and decrypt both keys; ``WrongPassword`` otherwise."""
    pfx, content = _parse(data)
    mac_data = pfx["mac_data"]
    if mac_data.native is None:
        raise Pkcs12Error("an e-ID file must carry an integrity MAC")
    algorithm = mac_data["mac"]["digest_algorithm"]["algorithm"].native
    if algorithm != "sha256":
        raise Pkcs12Error(f"unsupported MAC algorithm {algorithm}")
    expected = bytes(mac_data["mac"]["digest"].native)
    iterations = int(mac_data["iterations"].native)
    if not 1 <= iterations <= 10_000_000:
        raise Pkcs12Error("unreasonable MAC iteration count")
    computed = _mac(password, bytes(mac_data["mac_salt"].native), iterations, content)
    if not hmac.compare_digest(expected, computed):
        raise WrongPassword("the password is not right")
    result = eid_pkcs12_certificates(data)
    for bag in _bags(content):
        if bag["bag_id"].native != "pkcs8_shrouded_key_bag":
            continue
        name, _local = _bag_name(bag)
        try:
            key = serialization.load_der_private_key(
                bag["bag_value"].untag().dump(), password.encode()
            )
        except (ValueError, TypeError):
            raise WrongPassword("the password is not right") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise Pkcs12Error("e-ID keys are elliptic-curve keys")
        if name:
            result.keys[name] = key
    return result
