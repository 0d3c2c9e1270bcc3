"""The gateway's message log: every request and response, hash-chained, sealed, verifiable.

One JSON record per line in ``<log_dir>/<gateway>-<started>-<pid>.jsonl``. Each record holds
the message's identifiers, its hash and the sending gateway's signature over that hash (the
signed data itself, not the body: the log proves *what* was exchanged without keeping the
personal data), ``prev`` (the previous record's hash) and its own ``record_hash``. A signer's
certificate is written once per file before its first signature, so a file verifies offline.
Every second (and when the gateway stops) a ``seal`` record signs the chain's head with this
gateway's key: rewriting records and re-computing the chain after them breaks the seal.
Every few seconds the seals since the last token get one RFC 3161 timestamp from the
platform's TSA (a batch, as X-Road's message log does): a ``timestamp`` record names the seals
(``seals``: their ``seq``), the imprint (SHA-256 of their record hashes, in order) and the
token (base64 DER). The seals prove who wrote the log, the tokens when: a log rewritten later,
even by the gateway's own key, no longer matches tokens the TSA signed at the time.

``egov gateway verify-log`` re-checks all of it: an edited, deleted, inserted or reordered
record is reported with its line number.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from egov.exchange.gateway import messages
from egov.trust.tsa import TimestampError, token_check

GENESIS = "0" * 64


#: The one encoder of records (``json.dumps`` with options would build one per record).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _canonical(record: dict[str, Any]) -> str:
    """The record as written, without its own hash: compact JSON in the record's key order."""
    return _ENCODER.encode(record)


def record_hash(record: dict[str, Any]) -> str:
    body = {key: value for key, value in record.items() if key != "record_hash"}
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def seals_imprint(seal_hashes: list[str]) -> bytes:
    """What a timestamp covers: SHA-256 of the seals' record hashes (raw bytes, in order)."""
    return hashlib.sha256(b"".join(bytes.fromhex(value) for value in seal_hashes)).digest()


@dataclass(frozen=True)
class TimestampBatch:
    """The seals one timestamp query covers: their ``seq`` and record hashes."""

    seqs: tuple[int, ...]
    hashes: tuple[str, ...]

    @property
    def imprint(self) -> bytes:
        return seals_imprint(list(self.hashes))


class MessageLog:
    """Append-only writer owned by one gateway process (one event loop: no locking)."""

    def __init__(
        self,
        directory: Path,
        gateway: str,
        signing_key: ec.EllipticCurvePrivateKey,
        signing_certificate_pem: str,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        started = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.path = directory / f"{gateway}-{started}-{os.getpid()}.jsonl"
        self.gateway = gateway
        self._key = signing_key
        self._file = open(self.path, "a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115
        self._seq = 0
        self._head = GENESIS
        self._unsealed = 0
        self._certified: set[tuple[str, str]] = set()
        #: Seals without a token yet (seq, record hash), and when the oldest was written
        #: (monotonic seconds): the gateway stops forwarding once it is too old.
        self._untimestamped: list[tuple[int, str]] = []
        self.oldest_untimestamped: float | None = None
        self.last_timestamp_at: str | None = None
        self._append({"kind": "open", "gateway": gateway, "format": 1})
        self.certify(gateway, signing_certificate_pem)

    def _append(self, record: dict[str, Any], *, needs_seal: bool = True) -> str:
        record = {"seq": self._seq, "at": _now(), **record, "prev": self._head}
        body = _canonical(record)
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        # One serialisation per record: the hash is appended as the last key.
        self._file.write(f'{body[:-1]},"record_hash":"{digest}"}}\n')
        self._seq += 1
        self._head = digest
        if needs_seal:
            self._unsealed += 1
        return digest

    def certify(self, signer: str, certificate_pem: str) -> None:
        """Write a signer's certificate before its first signature in this file, and again
        when the signer's certificate changes (a renewed key)."""
        if (signer, certificate_pem) not in self._certified:
            self._certified.add((signer, certificate_pem))
            self._append({"kind": "certificate", "signer": signer, "pem": certificate_pem})

    def message(self, **fields: Any) -> None:
        """Log one request or response (``kind`` is ``request`` or ``response``)."""
        self._append({**fields, "timestamp": None})
        self._file.flush()

    def seal(self) -> None:
        """Sign the chain's head; a no-op when nothing was written since the last seal."""
        if self._unsealed == 0:
            return
        head = self._head
        signature = messages.sign(self._key, head)
        seq = self._seq
        digest = self._append(
            {
                "kind": "seal",
                "signer": self.gateway,
                "head": head,
                "signature": signature,
                "timestamp": None,
            }
        )
        self._unsealed = 0
        if not self._untimestamped:
            self.oldest_untimestamped = time.monotonic()
        self._untimestamped.append((seq, digest))
        self._file.flush()
        os.fsync(self._file.fileno())

    @property
    def untimestamped_seals(self) -> int:
        return len(self._untimestamped)

    def timestamp_batch(self) -> TimestampBatch | None:
        """The seals the next timestamp query covers; None when every seal has a token."""
        if not self._untimestamped:
            return None
        return TimestampBatch(
            seqs=tuple(seq for seq, _ in self._untimestamped),
            hashes=tuple(digest for _, digest in self._untimestamped),
        )

    def timestamp(self, batch: TimestampBatch, token: bytes, gen_time: datetime) -> None:
        """Write the token of ``batch`` (seals written meanwhile wait for the next one). The
        record needs no seal of its own: the TSA's signature protects it, the chain holds it
        in place, and a seal for it would need a token again, for ever."""
        covered = set(batch.seqs)
        self._append(
            {
                "kind": "timestamp",
                "seals": list(batch.seqs),
                "imprint": batch.imprint.hex(),
                "gen_time": gen_time.isoformat().replace("+00:00", "Z"),
                "token": base64.b64encode(token).decode("ascii"),
            },
            needs_seal=False,
        )
        self._untimestamped = [item for item in self._untimestamped if item[0] not in covered]
        # The oldest seal still waiting was written after the batch was taken: its own
        # time is not known here, so it counts from now (at most one interval late).
        self.oldest_untimestamped = time.monotonic() if self._untimestamped else None
        self.last_timestamp_at = _now()
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self.seal()
        self._file.close()


@dataclass
class Verification:
    path: Path
    records: int = 0
    messages: int = 0
    seals: int = 0
    errors: int = 0
    timestamps: int = 0
    #: Seals no token covers (the last ones of a file, or all of them when no TSA was set).
    untimestamped_seals: int = 0
    problems: list[str] = field(default_factory=list)
    unsealed_tail: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """Each non-blank line with its number; None for one that is not UTF-8 (decoded line by
    line, so one bad byte is a problem of its line, not the end of the check)."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None
                continue
            if line.strip():
                yield number, line


def _text(record: dict[str, Any], key: str) -> str | None:
    """``record[key]`` when it is a string: the fields below are used as strings (dictionary
    keys, bytes to verify), and a record that is JSON is not necessarily what we wrote."""
    value = record.get(key)
    return value if isinstance(value, str) else None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def verify_log(path: Path, trusted_ca: list[x509.Certificate] | None = None) -> Verification:
    """Check one log file: chain, sequence, record hashes, every signature and seal."""
    result = Verification(path)
    previous = GENESIS
    expected_seq = 0
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    since_seal = 0
    #: Seals after the last token: (seq, record hash, written at: None when unreadable).
    pending: list[tuple[int, str, datetime | None]] = []
    last_gen_time: datetime | None = None
    for number, line in _lines(path):
        result.records += 1
        if line is None:
            result.problems.append(f"line {number}: not UTF-8 text")
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            record = None
        if not isinstance(record, dict):  # `5`, `[]`, `null` are JSON, not records
            result.problems.append(f"line {number}: not a JSON record")
            continue
        where = f"line {number} (seq {record.get('seq')})"
        if record.get("seq") != expected_seq:
            result.problems.append(
                f"{where}: expected seq {expected_seq}: a record was deleted, inserted or moved"
            )
        if record.get("prev") != previous:
            result.problems.append(f"{where}: does not follow the previous record (chain broken)")
        if record_hash(record) != record.get("record_hash"):
            result.problems.append(f"{where}: content changed (record hash does not match)")
        seq = record.get("seq")
        expected_seq = (seq if isinstance(seq, int) else expected_seq) + 1
        previous = record.get("record_hash", "")
        kind = record.get("kind")
        signer = _text(record, "signer")
        if not isinstance(kind, str):
            result.problems.append(f"{where}: the record has no kind")
        elif kind == "certificate":
            pem = _text(record, "pem")
            if pem is None:
                result.problems.append(f"{where}: unreadable certificate (no PEM text)")
            elif signer is None:
                result.problems.append(f"{where}: unreadable certificate (no signer's name)")
            else:
                try:
                    certificate = x509.load_pem_x509_certificate(pem.encode())
                    public_key = certificate.public_key()
                    if not isinstance(public_key, ec.EllipticCurvePublicKey):
                        raise ValueError("not an EC key")
                    if trusted_ca and not _issued_by_any(certificate, trusted_ca):
                        result.problems.append(f"{where}: certificate not issued by the trusted CA")
                    if not _names(certificate, signer):
                        result.problems.append(f"{where}: the certificate is not {signer!r}'s")
                    keys[signer] = public_key
                except ValueError as error:
                    result.problems.append(f"{where}: unreadable certificate ({error})")
        elif kind in ("request", "response"):
            result.messages += 1
            since_seal += 1
            key = keys.get(signer) if signer is not None else None
            if kind == "response" and record.get("error"):
                # An error of the exchange itself (X-Road-Error) carries no data and no
                # signature; the chain and the seals still cover the record.
                result.errors += 1
            elif key is None:
                result.problems.append(
                    f"{where}: signer {record.get('signer')!r} has no certificate"
                )
            elif not messages.verify(
                key, _text(record, "signature") or "", _text(record, "hash") or ""
            ):
                result.problems.append(f"{where}: the message signature does not verify")
        elif kind == "seal":
            result.seals += 1
            since_seal = 0
            key = keys.get(signer) if signer is not None else None
            head = _text(record, "head")
            if head is None or head != record.get("prev"):
                result.problems.append(f"{where}: the seal does not cover the chain's head")
            if (
                key is None
                or head is None
                or not messages.verify(key, _text(record, "signature") or "", head)
            ):
                result.problems.append(f"{where}: the seal's signature does not verify")
            written = _moment(record.get("at"))
            if written is None:
                result.problems.append(f"{where}: the seal's time (at) is missing or not a time")
            pending.append((record.get("seq", -1), str(record.get("record_hash")), written))
        elif kind == "timestamp":
            result.timestamps += 1
            problem, gen_time, pending = _timestamp_check(record, pending, trusted_ca or [])
            if problem:
                result.problems.append(f"{where}: {problem}")
            if gen_time is not None:
                if last_gen_time is not None and gen_time < last_gen_time:
                    result.problems.append(f"{where}: the token's time is before the last token's")
                last_gen_time = gen_time
    result.unsealed_tail = since_seal
    result.untimestamped_seals = len(pending)
    return result


#: How far the gateway's and the TSA's clocks may disagree before a seal "after" its token
#: is a problem.
TIMESTAMP_CLOCK_SKEW_SECONDS = 300


def _timestamp_check(
    record: dict[str, Any],
    pending: list[tuple[int, str, datetime | None]],
    authorities: list[x509.Certificate],
) -> tuple[str, datetime | None, list[tuple[int, str, datetime | None]]]:
    """Check one ``timestamp`` record against the seals waiting for it: the problem (or
    ""), the token's time and the seals still waiting after it."""
    seqs = record.get("seals")
    if (
        not isinstance(seqs, list)
        or not seqs
        or seqs != [seq for seq, _, _ in pending][: len(seqs)]
    ):
        return "the timestamp does not cover the seals before it, in order", None, []
    covered, remaining = pending[: len(seqs)], pending[len(seqs) :]
    imprint = seals_imprint([digest for _, digest, _ in covered])
    if record.get("imprint") != imprint.hex():
        return "the timestamp's imprint is not the seals' (a seal changed)", None, remaining
    try:
        token = token_check(base64.b64decode(str(record.get("token", ""))), authorities=authorities)
    except (TimestampError, ValueError) as error:
        return f"the timestamp token does not verify: {error}", None, remaining
    if token.digest != imprint:
        return "the timestamp token is for other seals", token.gen_time, remaining
    # A seal without a readable time is already a problem of its own line.
    times = [at for _, _, at in covered if at is not None]
    if times and (max(times) - token.gen_time).total_seconds() > TIMESTAMP_CLOCK_SKEW_SECONDS:
        return "the token's time is before the seals it covers", token.gen_time, remaining
    return "", token.gen_time, remaining


def _issued_by_any(certificate: x509.Certificate, authorities: list[x509.Certificate]) -> bool:
    for authority in authorities:
        try:
            certificate.verify_directly_issued_by(authority)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return True
    return False


def _names(certificate: x509.Certificate, signer: str) -> bool:
    """Whether the certificate's common name is the gateway's code (``GW-PORTAL`` or
    ``GW-PORTAL signing``)."""
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    common_name = str(names[0].value) if names else ""
    return common_name == signer or common_name.startswith(f"{signer} ")


def log_files(target: Path) -> list[Path]:
    return sorted(target.glob("*.jsonl")) if target.is_dir() else [target]
