"""What Django itself announces goes into the ledger: logins and the admin's change log.

Signals are the only seam Django offers for these (its login view and admin write them);
the entry joins the transaction of the action that sent the signal."""

from __future__ import annotations

from typing import Any

from egov.audit import record

ADMIN_ACTIONS = {1: "added", 2: "changed", 3: "deleted"}


def _client(request: Any) -> dict[str, str]:
    if request is None:
        return {}
    return {"path": str(getattr(request, "path", ""))[:200]}


def login_succeeded(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if user is None:
        return
    record(
        "login.succeeded",
        actor=user,
        subject=str(getattr(user, "personal_number", "") or ""),
        data={"backend": str(getattr(user, "backend", "") or ""), **_client(request)},
    )


def login_failed(
    sender: Any, credentials: dict[str, Any] | None = None, request: Any = None, **kwargs: Any
) -> None:
    # Django has already masked every credential that looks like a secret; only the name
    # typed is kept, never a password or code.
    username = str((credentials or {}).get("username", "") or "")[:150]
    record("login.failed", actor="", data={"username": username, **_client(request)})


def admin_changed(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if not created:
        return
    content_type = instance.content_type
    record(
        "admin.changed",
        actor=instance.user,
        data={
            "action": ADMIN_ACTIONS.get(int(instance.action_flag), str(instance.action_flag)),
            "model": f"{content_type.app_label}.{content_type.model}" if content_type else "",
            "object_id": str(instance.object_id or ""),
            "object": str(instance.object_repr or "")[:200],
            "change": str(instance.change_message or "")[:2000],
        },
    )
