"""signing_key(name): the certificate in force, its chain and a signer, wherever the key is;
keys at rest encrypted with the key passphrase, old unencrypted keys still loaded."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command

from egov.trust.keys import FileSigningKey, SigningKeyMissing, signing_key
from egov.trust.pki import (
    certificate_issue,
    key_passphrase,
    load_certificate,
    load_private_key,
    pki_init,
    verify,
)
from egov.trust.pki.keys import private_key_encrypted, private_key_pem


def test_file_signing_key_signs_what_its_certificate_verifies(pki):
    key = signing_key("agency-test-documents")
    assert isinstance(key, FileSigningKey)
    assert key.certificate == load_certificate(pki / "issued" / "agency-test-documents.cert.pem")
    assert key.chain == [
        load_certificate(pki / "issuing.cert.pem"),
        load_certificate(pki / "root.cert.pem"),
    ]
    signature = key.sign(b"a decision")
    assert verify(key.certificate, signature, b"a decision")
    assert not verify(key.certificate, signature, b"another decision")
    assert signing_key("agency-test-documents") is key  # loaded once


def test_pyhanko_signer_is_a_simple_signer_of_the_certificate(pki):
    from pyhanko.sign.signers import SimpleSigner

    signer = signing_key("tsa").pyhanko_signer()
    assert isinstance(signer, SimpleSigner)
    assert signer.signing_cert.dump() == signing_key("tsa").certificate.public_bytes(
        __import__("cryptography").hazmat.primitives.serialization.Encoding.DER
    )


def test_unknown_name_is_missing(pki):
    with pytest.raises(SigningKeyMissing):
        signing_key("agency-nowhere-documents")


def test_keys_are_written_encrypted_with_the_passphrase(pki):
    assert key_passphrase()  # the tests' EGOV_PKI_KEY_PASSPHRASE
    for path in [pki / "root.key.pem", pki / "issuing.key.pem", pki / "issued" / "ocsp.key.pem"]:
        assert private_key_encrypted(path), path
        assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        with pytest.raises(ValueError):
            load_private_key(path, passphrase=b"wrong")


def test_unencrypted_keys_load_and_encrypt_keys_rewrites_them(tmp_path, settings):
    directory = tmp_path / "pki"
    from egov.trust.pki import key_passphrase_configure

    passphrase = key_passphrase()
    key_passphrase_configure(None)
    try:
        pki_init(directory=directory)
        issued = certificate_issue(
            directory=directory, profile="ledger-signing", common_name="L", name="ledger"
        )
    finally:
        key_passphrase_configure(passphrase)
    assert not private_key_encrypted(issued.key_path)
    before = load_private_key(issued.key_path)  # an old key still loads
    settings.PKI_DIR = directory
    output = io.StringIO()
    call_command("pki", "encrypt-keys", stdout=output)
    assert "3 key files encrypted" in output.getvalue()
    assert private_key_encrypted(issued.key_path)
    after = load_private_key(issued.key_path)
    assert after.private_numbers() == before.private_numbers()
    output = io.StringIO()
    call_command("pki", "encrypt-keys", stdout=output)
    assert "0 key files encrypted" in output.getvalue()


def test_encrypted_key_needs_the_passphrase():
    key = ec.generate_private_key(ec.SECP256R1())
    pem = private_key_pem(key, b"secret")
    assert load_private_key(pem, passphrase=b"secret").private_numbers() == key.private_numbers()
    with pytest.raises(ValueError):
        load_private_key(pem, passphrase=b"other")
    assert not private_key_encrypted(private_key_pem(key, None))
    assert isinstance(Path, type)
