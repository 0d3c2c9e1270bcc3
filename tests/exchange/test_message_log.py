"""Every message is in both gateways' logs, signed and chained; verification catches any edit,
deletion or reordering, offline, with ``egov gateway verify-log``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from egov.exchange.gateway.messagelog import verify_log
from tests.exchange.harness import PORTAL, Stack

PERSON_PATH = "/r1/BY/GOV/MVD/population/person/4150592M012PB5"
HEADERS = {
    "X-Road-UserId": "BY4150592M012PB5",
    "X-Egov-Purpose": "prefill",
    "X-Road-Issue": "draft-17",
}


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[tuple[Stack, Path, Path]]:
    """Two calls through a stopped (so sealed) pair of gateways; their two log files."""
    stack = Stack(tmp_path).start()
    for message_id in (
        "11111111-1111-4111-8111-111111111111",
        "22222222-2222-4222-8222-222222222222",
    ):
        response = stack.call(PERSON_PATH, headers={**HEADERS, "X-Road-Id": message_id})
        assert response.status == 200
    client_log = stack.gateways["GW-A"].log.path
    provider_log = stack.gateways["GW-B"].log.path
    stack.stop()
    yield stack, client_log, provider_log


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def test_both_sides_log_request_and_response_with_identifiers(logs) -> None:
    _stack, client_log, provider_log = logs

    client_messages = [row for row in records(client_log) if row["kind"] in {"request", "response"}]
    provider_messages = [
        row for row in records(provider_log) if row["kind"] in {"request", "response"}
    ]

    assert [(row["kind"], row["side"]) for row in client_messages] == [
        ("request", "client"),
        ("response", "client"),
        ("request", "client"),
        ("response", "client"),
    ]
    first = client_messages[0]
    assert first["message_id"] == "11111111-1111-4111-8111-111111111111"
    assert first["client"] == PORTAL
    assert first["service"] == "BY/GOV/MVD/population/person"
    assert first["user_id"] == "BY4150592M012PB5"
    assert first["purposes"] == ["prefill"]
    assert first["issue"] == "draft-17"
    assert first["signer"] == "GW-A"
    assert first["timestamp"] is None
    # The same request, seen by both gateways, has the same hash and signature.
    assert provider_messages[0]["hash"] == first["hash"]
    assert provider_messages[0]["signature"] == first["signature"]
    assert provider_messages[1]["signer"] == "GW-B"
    assert client_messages[1]["request_hash"] == first["hash"]
    assert client_messages[1]["signature"] == provider_messages[1]["signature"]


def test_log_holds_no_message_bodies(logs) -> None:
    _stack, client_log, provider_log = logs

    assert "/registries/population" not in client_log.read_text() + provider_log.read_text()
    assert "received" not in client_log.read_text() + provider_log.read_text()


def test_untouched_logs_verify(logs) -> None:
    stack, client_log, provider_log = logs
    from egov.trust.pki import load_certificates

    authorities = load_certificates(stack.pki / "issuing.cert.pem")
    for path in (client_log, provider_log):
        result = verify_log(path, authorities)
        assert result.problems == []
        assert result.messages == 4
        assert result.seals >= 1
        assert result.unsealed_tail == 0


def test_edited_record_is_detected(logs) -> None:
    _stack, client_log, _ = logs
    rows = records(client_log)
    index = next(i for i, row in enumerate(rows) if row["kind"] == "request")
    rows[index]["user_id"] = "BY9999999A999PB9"
    write(client_log, rows)

    result = verify_log(client_log)

    assert not result.ok
    assert any("content changed" in problem for problem in result.problems)


def test_edited_record_with_recomputed_chain_is_detected_by_signatures(logs) -> None:
    """Someone who rewrites a record and re-computes every hash after it still cannot forge
    the message signature nor the seal."""
    from egov.exchange.gateway.messagelog import record_hash

    _stack, client_log, _ = logs
    rows = records(client_log)
    index = next(i for i, row in enumerate(rows) if row["kind"] == "request")
    rows[index]["hash"] = rows[index]["hash"][::-1]
    previous = rows[index - 1]["record_hash"]
    for row in rows[index:]:
        row["prev"] = previous
        row["record_hash"] = record_hash(row)
        previous = row["record_hash"]
    write(client_log, rows)

    result = verify_log(client_log)

    assert any("message signature does not verify" in problem for problem in result.problems)
    assert any("seal" in problem for problem in result.problems)


def test_deleted_record_is_detected(logs) -> None:
    _stack, _, provider_log = logs
    rows = records(provider_log)
    index = next(i for i, row in enumerate(rows) if row["kind"] == "response")
    del rows[index]
    write(provider_log, rows)

    result = verify_log(provider_log)

    assert any("was deleted, inserted or moved" in problem for problem in result.problems)
    assert any("chain broken" in problem for problem in result.problems)


def test_reordered_records_are_detected(logs) -> None:
    _stack, client_log, _ = logs
    rows = records(client_log)
    first = next(i for i, row in enumerate(rows) if row["kind"] == "request")
    rows[first], rows[first + 1] = rows[first + 1], rows[first]
    write(client_log, rows)

    result = verify_log(client_log)

    assert any("chain broken" in problem for problem in result.problems)


def test_verify_log_command_passes_a_good_log_and_fails_a_bad_one(logs, capsys) -> None:
    stack, client_log, provider_log = logs

    call_command(
        "gateway", "verify-log", str(client_log.parent), "--ca", str(stack.pki / "issuing.cert.pem")
    )
    good = capsys.readouterr().out
    rows = records(provider_log)
    rows[-2]["status"] = 204
    write(provider_log, rows)
    with pytest.raises(CommandError):
        call_command(
            "gateway", "verify-log", str(provider_log), "--ca", str(stack.pki / "issuing.cert.pem")
        )
    bad = capsys.readouterr().out

    assert good.startswith(f"OK {client_log}: ")
    assert "4 messages" in good
    assert bad.startswith(f"FAILED {provider_log}")
    assert "content changed" in bad


def test_exchange_errors_are_logged_and_the_log_still_verifies(tmp_path: Path) -> None:
    """A refusal by the provider's gateway is on record on the client's side (no data, no
    signature: X-Road-Error), and the file verifies. The provider's gateway has already
    heard of the withdrawn right, the client's not yet, so only the provider refuses."""
    stack = Stack(tmp_path).start()
    stack.withdraw(PORTAL, "BY/GOV/MVD/population/echo")
    stack.serial += 1
    stack.refresh("GW-B")
    refused = stack.call("/r1/BY/GOV/MVD/population/echo/x")
    client_log = stack.gateways["GW-A"].log.path
    stack.stop()

    errors = [row for row in records(client_log) if row.get("error")]
    result = verify_log(client_log)

    assert refused.status == 500
    assert [row["error"] for row in errors] == ["Server.ServerProxy.AccessDenied"]
    assert errors[0]["client"] == PORTAL
    assert result.problems == []
    assert result.errors == 1
    assert result.messages == 2


def test_log_written_with_a_key_outside_the_pki_or_under_another_name_fails(tmp_path: Path) -> None:
    """Whoever can write the log file cannot make a convincing one: the signers' certificates
    must come from the platform's CA and name the gateway that signs."""
    from egov.exchange.gateway.messagelog import MessageLog
    from egov.trust.pki import (
        certificate_issue,
        certificate_pem,
        load_certificate,
        load_certificates,
        load_private_key,
        pki_init,
    )
    from tests.exchange.harness import _pki_template

    other = tmp_path / "other-pki"
    pki_init(directory=other)
    forged = certificate_issue(
        directory=other, profile="gateway-signing", common_name="GW-A", name="forged"
    )
    real = tmp_path / "real-pki"
    import shutil

    shutil.copytree(_pki_template(), real)
    borrowed = real / "issued" / "GW-B-signing"
    cases = {
        "outside": (load_private_key(forged.key_path), load_certificate(forged.certificate_path)),
        "borrowed": (
            load_private_key(borrowed.with_suffix(".key.pem")),
            load_certificate(borrowed.with_suffix(".cert.pem")),
        ),
    }
    authorities = load_certificates(real / "issuing.cert.pem")
    problems = {}
    for label, (key, certificate) in cases.items():
        log = MessageLog(tmp_path / label, "GW-A", key, certificate_pem(certificate))
        log.close()
        problems[label] = verify_log(log.path, authorities).problems

    assert any("not issued by the trusted CA" in problem for problem in problems["outside"])
    assert any("is not 'GW-A''s" in problem for problem in problems["borrowed"])
