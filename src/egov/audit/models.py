"""The ledger's tables: entries (the leaves), stored subtree hashes, signed tree heads."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Entry(models.Model):
    """One leaf of the ledger. ``entry_bytes`` is the exact input of the leaf hash (a
    canonical JSON serialisation of the other fields), kept so a proof can carry it.

    ``leaf_index`` is empty until the sequencer puts the committed entry into the tree: the
    tree's order is the order entries were sequenced in, gapless from 0."""

    recorded_at = models.DateTimeField(_("when"))
    kind = models.CharField(_("kind"), max_length=64)
    actor = models.CharField(_("actor"), max_length=200, blank=True)
    #: The acting user's id when the actor was a user (no foreign key: an entry outlives
    #: the account).
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=32, blank=True)
    data = models.JSONField(_("data"), default=dict)
    entry_bytes = models.BinaryField(_("entry bytes"))
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=32)
    leaf_index = models.BigIntegerField(_("leaf index"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=["subject", "kind"], name="audit_entry_subject_kind"),
            # The sequencer's queue: only the entries not yet in the tree.
            models.Index(
                fields=["id"], name="audit_entry_pending", condition=models.Q(leaf_index=None)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Node(models.Model):
    """The hash of a complete subtree of ``2**level`` leaves starting at leaf
    ``index * 2**level``, stored for every level that is a multiple of
    :data:`egov.audit.merkle.NODE_STRIDE`, so a proof at a million entries reads a few
    dozen hashes instead of every leaf."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="audit_node_position")
        ]

    def __str__(self) -> str:
        return f"{self.level}/{self.index}"


class Sequencer(models.Model):
    """The one row whose lock the sequencer holds while it numbers leaves; ``tree_size``
    is the number of leaves in the tree."""

    tree_size = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.tree_size)


class TreeHead(models.Model):
    """A signed tree head: the root of the first ``tree_size`` leaves at ``timestamp``
    (milliseconds since the epoch), signed by the ledger's key
    (see :func:`egov.audit.merkle.tree_head_bytes` for the bytes signed)."""

    tree_size = models.BigIntegerField()
    root_hash = models.BinaryField(max_length=32)
    timestamp = models.BigIntegerField()
    signature = models.BinaryField()
    #: The signer's certificate and its chain (PEM), kept with the head so a proof checks
    #: offline years later.
    certificate = models.TextField()
    chain = models.TextField(blank=True)

    class Meta:
        verbose_name = _("signed tree head")
        verbose_name_plural = _("signed tree heads")
        indexes = [models.Index(fields=["tree_size"], name="audit_treehead_size")]

    def __str__(self) -> str:
        return f"{self.tree_size} @ {self.timestamp}"
