from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "egov.audit"
    label = "audit"
    verbose_name = "Audit ledger"

    def ready(self) -> None:
        from django.contrib.admin.models import LogEntry
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.models.signals import post_save

        from egov.audit import hooks
        from egov.core.worker import periodic

        if "audit_tree_heads" not in periodic:
            periodic.register("audit_tree_heads")(_tree_heads_due)
        user_logged_in.connect(hooks.login_succeeded, dispatch_uid="audit_login_succeeded")
        user_login_failed.connect(hooks.login_failed, dispatch_uid="audit_login_failed")
        post_save.connect(hooks.admin_changed, sender=LogEntry, dispatch_uid="audit_admin")


def _tree_heads_due(*args: Any) -> int:
    from egov.audit.services import tree_heads_due

    return tree_heads_due()
