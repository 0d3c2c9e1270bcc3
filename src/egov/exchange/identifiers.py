"""X-Road identifiers: ``BY/GOV/MVD/population`` (a client) and ``.../person`` (a service),
``INSTANCE/CLASS/MEMBER[/SUBSYSTEM[/SERVICE]]``.

Each part is UTF-8, percent-encoded on its own (X-Road Message Protocol for REST §4.2), and
strictly validated here: an identifier the gateway cannot parse is a protocol violation. After
decoding, a part holds only the characters PR-REST §4.8 allows in X-Road identifiers: letters
``A-Z a-z``, digits and ``'()+,-.=?`` (so no ``/ \\ ; : %``, no ``_``, no space, no control
character).

The instance and the member classes are configuration (the exchange description): a part is
checked here for its characters only, and whether a client or service exists in this
instance is the global configuration's to say (``UnknownMember``, ``UnknownService``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import unquote

#: The characters of an identifier part after decoding (PR-REST §4.8), at most 64 of them.
PART_CHARACTERS = "A-Za-z0-9'()+,\\-.=?"
PART = re.compile(f"[{PART_CHARACTERS}]{{1,64}}")
MAX_URI_LENGTH = 2000
#: Backslashes and NUL in the path after the service code, encoded or not: a server that
#: reads ``\\`` as a separator could climb out of the service. An encoded ``/`` (``%2F``) is
#: data inside its segment and passes, encoded.
FORBIDDEN_IN_PATH = re.compile(r"%(5c|00)|\\", re.IGNORECASE)
#: A path of RFC 3986 characters only: segments of pchar (unreserved, percent-encoded,
#: sub-delims, ``:`` ``@``) and ``/``. No ``#`` (a fragment, which the client side would drop
#: when sending and so break the signature), no space, quote, brace, bracket or non-ASCII.
PATH_CHARACTERS = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")


class IdentifierError(ValueError):
    """The text is not a valid identifier; the message says why."""


def identifier_part_valid(part: str) -> bool:
    """Whether a decoded part (a member, subsystem or service code) uses only the
    characters PR-REST allows; the central registry validates codes with it too."""
    return bool(PART.fullmatch(part)) and part not in {".", ".."}


@functools.lru_cache(maxsize=4096)
def _decode(part: str) -> str:
    try:
        decoded = unquote(part, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as error:
        raise IdentifierError(f"'{part}' is not valid percent-encoded UTF-8") from error
    if not identifier_part_valid(decoded):
        raise IdentifierError(
            f"{decoded!r} is not a valid identifier part (letters, digits and '()+,-.=?)"
        )
    return decoded


@dataclass(frozen=True)
class ClientId:
    instance: str
    member_class: str
    member_code: str
    subsystem_code: str = ""

    @property
    def member(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.member_code}"

    def __str__(self) -> str:
        return f"{self.member}/{self.subsystem_code}" if self.subsystem_code else self.member


@dataclass(frozen=True)
class ServiceId:
    provider: ClientId
    service_code: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.service_code}"


@functools.lru_cache(maxsize=4096)
def client_id_parse(text: str) -> ClientId:
    """Parse ``X-Road-Client``: ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]``, parts percent-encoded."""
    raw = text.strip().split("/")
    if len(raw) not in (3, 4):
        raise IdentifierError("expected INSTANCE/CLASS/MEMBER/SUBSYSTEM")
    parts = [_decode(part) for part in raw]
    return ClientId(*parts)


def service_path_parse(raw_path: str) -> tuple[ServiceId, str]:
    """Split ``/r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/path]`` (the raw, undecoded path).

    Returns the service identifier and the rest of the path, still encoded as received (it is
    passed to the provider unchanged), which must not climb out of the service with ``..``."""
    if len(raw_path) > MAX_URI_LENGTH:
        raise IdentifierError(f"the request URI is longer than {MAX_URI_LENGTH} characters")
    if not raw_path.startswith("/r1/"):
        raise IdentifierError("the path must start with /r1/ (protocol version r1)")
    if not PATH_CHARACTERS.fullmatch(raw_path):
        raise IdentifierError(
            "the path may hold only RFC 3986 path characters (no '#', no space, "
            "'%' only before two hexadecimal digits)"
        )
    segments = raw_path[len("/r1/") :].split("/")
    if len(segments) < 5:
        raise IdentifierError("expected /r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/path]")
    instance, member_class, member_code, subsystem, service_code = (
        _decode(part) for part in segments[:5]
    )
    rest = segments[5:]
    for segment in rest:
        # ``..`` must not climb, not even for a server that decodes ``%2F`` into ``/``.
        if any(part in {".", ".."} for part in unquote(segment).split("/")):
            raise IdentifierError("the service path must not contain '.' or '..' segments")
        if FORBIDDEN_IN_PATH.search(segment):
            raise IdentifierError(
                "the service path must not contain '\\' or NUL characters, encoded or not"
            )
    provider = ClientId(instance, member_class, member_code, subsystem)
    return ServiceId(provider, service_code), ("/" + "/".join(rest) if rest else "")
