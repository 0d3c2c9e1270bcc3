"""A message log line that is JSON but not the record it should be (not an object, a seal
without its head or time, a certificate whose PEM is not text...) is a problem
``egov gateway verify-log`` reports with its line number, never a traceback."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from egov.exchange.gateway import messages
from egov.exchange.gateway.messagelog import MessageLog, record_hash, verify_log
from egov.trust.pki import (
    certificate_pem,
    load_certificate,
    load_certificates,
    load_private_key,
)
from tests.exchange.harness import _pki_template

GATEWAY = "GW-A"


@pytest.fixture
def log(tmp_path: Path) -> tuple[Path, Path]:
    """A log of GW-A (open, certificate, request, seal, response, seal) that verifies, and
    the CA certificate it chains to."""
    pki = _pki_template()
    signing = pki / "issued" / f"{GATEWAY}-signing"
    key = load_private_key(signing.with_suffix(".key.pem"))
    certificate = load_certificate(signing.with_suffix(".cert.pem"))
    writer = MessageLog(tmp_path / "logs", GATEWAY, key, certificate_pem(certificate))
    for kind in ("request", "response"):
        digest = base64.b64encode(hashlib.sha512(kind.encode()).digest()).decode()
        writer.message(kind=kind, signer=GATEWAY, hash=digest, signature=messages.sign(key, digest))
        writer.seal()
    writer.close()
    ca = pki / "issuing.cert.pem"
    assert verify_log(writer.path, load_certificates(ca)).problems == []
    return writer.path, ca


def _rows(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _rewrite(path: Path, rows: list[Any]) -> None:
    """Write ``rows`` back with the chain recomputed after them, as someone who can write
    the file would: only the corruption itself is left to find."""
    previous = "0" * 64
    for row in rows:
        if isinstance(row, dict):
            row["prev"] = previous
            row["record_hash"] = record_hash(row)
            previous = row["record_hash"]
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def _line_of(rows: list[Any], kind: str) -> int:
    """The line number (from 1) of the first record of ``kind``."""
    return next(i for i, row in enumerate(rows, start=1) if row["kind"] == kind)


def _not_an_object(value: Any) -> Any:
    def corrupt(rows: list[Any]) -> int:
        line = _line_of(rows, "request")
        rows[line - 1] = value
        return line

    return corrupt


def _field(kind: str, key: str, value: Any = KeyError) -> Any:
    """Remove ``key`` from the first record of ``kind`` (or set it to ``value``)."""

    def corrupt(rows: list[Any]) -> int:
        line = _line_of(rows, kind)
        if value is KeyError:
            del rows[line - 1][key]
        else:
            rows[line - 1][key] = value
        return line

    return corrupt


CORRUPTIONS = {
    "a number": (_not_an_object(5), "not a JSON record"),
    "a list": (_not_an_object([1, 2]), "not a JSON record"),
    "null": (_not_an_object(None), "not a JSON record"),
    "a string": (_not_an_object("request"), "not a JSON record"),
    "seal without head": (_field("seal", "head"), "the seal does not cover the chain's head"),
    "seal with a number as head": (
        _field("seal", "head", 5),
        "the seal does not cover the chain's head",
    ),
    "seal without at": (_field("seal", "at"), "the seal's time (at) is missing or not a time"),
    "seal with a number as at": (
        _field("seal", "at", 5),
        "the seal's time (at) is missing or not a time",
    ),
    "pem a number": (
        _field("certificate", "pem", 5),
        "unreadable certificate (no PEM text)",
    ),
    "signer a list": (
        _field("certificate", "signer", ["GW-A"]),
        "unreadable certificate (no signer's name)",
    ),
    "message hash a number": (
        _field("request", "hash", 5),
        "the message signature does not verify",
    ),
    "message signer a list": (
        _field("request", "signer", ["GW-A"]),
        "signer ['GW-A'] has no certificate",
    ),
    "kind a list": (_field("request", "kind", ["request"]), "the record has no kind"),
    "kind missing": (_field("request", "kind"), "the record has no kind"),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS, ids=list(CORRUPTIONS))
def test_a_malformed_record_is_reported_with_its_line(log, corruption, capsys) -> None:  # type: ignore[no-untyped-def]
    path, ca = log
    corrupt, problem = CORRUPTIONS[corruption]
    rows = _rows(path)
    line = corrupt(rows)
    _rewrite(path, rows)

    with pytest.raises(CommandError) as failed:
        call_command("gateway", "verify-log", str(path), "--ca", str(ca))
    out = capsys.readouterr().out

    assert str(failed.value) == "the message log does not verify"
    assert failed.value.returncode == 1
    assert out.startswith(f"FAILED {path}: {len(rows)} records")
    reported = [text.strip() for text in out.splitlines()[1:]]
    assert any(text.startswith(f"line {line}") and text.endswith(problem) for text in reported), (
        reported
    )


def test_a_line_that_is_not_utf8_is_reported_with_its_line(log, capsys) -> None:  # type: ignore[no-untyped-def]
    path, ca = log
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = b'{"kind":"\xff\xfe"}\n'
    path.write_bytes(b"".join(lines))

    with pytest.raises(CommandError):
        call_command("gateway", "verify-log", str(path), "--ca", str(ca))
    out = capsys.readouterr().out

    assert out.startswith(f"FAILED {path}: {len(lines)} records")
    assert "  line 3: not UTF-8 text" in out.splitlines()
