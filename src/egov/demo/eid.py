"""The demo people's e-IDs: one PKCS#12 file each under EGOV_EID_DIR (``<personal
number>.p12``), with the simple passwords the README lists. ``egov demo`` starts the signer
on this folder."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from egov.demo.accounts import DEMO_ACCOUNTS
from egov.identity.eid import eid_issue
from egov.identity.models import User

#: Password of each demo person's e-ID file, by personal number (also in the README).
DEMO_EID_PASSWORDS = {
    "4150592M012PB5": "citizen-eid",
    "3010180A001PB8": "business-eid",
}


def demo_eid_path(personal_number: str, directory: Path | None = None) -> Path:
    return Path(directory or settings.EID_DIR) / f"{personal_number}.p12"


def demo_eids_issue(*, directory: Path | None = None) -> int:
    """Issue an e-ID to every demo person who has none yet; how many were issued."""
    issued = 0
    for account in DEMO_ACCOUNTS:
        number = account.personal_number
        if not number or number not in DEMO_EID_PASSWORDS:
            continue
        path = demo_eid_path(number, directory)
        if path.exists():
            continue
        user = User.objects.filter(personal_number=number).first()
        if user is None:
            continue
        data = eid_issue(user=user, password=DEMO_EID_PASSWORDS[number], actor="demo-seed")
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        issued += 1
    return issued
