"""People who use the platform and what they may act as."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from egov.identity.validators import personal_number_validator, phone_validator, unp_validator


class UserKind(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    BUSINESS = "business", _("Business representative")
    OFFICIAL = "official", _("Official")
    ADMIN = "admin", _("Platform administrator")


class OfficialRole(models.TextChoices):
    CLERK = "clerk", _("Clerk")
    DECISION_MAKER = "decision_maker", _("Decision maker")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")


class LevelOfAssurance(models.TextChoices):
    """As in eIDAS: what the login proved about the person."""

    LOW = "low", _("Low (password)")
    SUBSTANTIAL = "substantial", _("Substantial (password and second factor)")
    HIGH = "high", _("High (qualified electronic signature)")

    @classmethod
    def rank(cls, level: str | None) -> int:
        """Orders levels so that a stronger login satisfies a weaker requirement."""
        order = {cls.LOW.value: 1, cls.SUBSTANTIAL.value: 2, cls.HIGH.value: 3}
        return order.get(level or "", 0)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(kind=UserKind.ADMIN, is_superuser=True, email_verified=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """One account. A citizen is identified by the identification number; an official
    belongs to exactly one agency with one role; a platform admin edits the platform."""

    email = models.EmailField(_("email address"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=UserKind.choices)
    first_name = models.CharField(_("first name"), max_length=100)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    personal_number = models.CharField(
        _("identification number"),
        max_length=14,
        unique=True,
        null=True,
        blank=True,
        validators=[personal_number_validator],
    )
    agency = models.ForeignKey(
        "catalog.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officials",
    )
    official_role = models.CharField(
        _("role in the agency"), max_length=16, choices=OfficialRole.choices, blank=True
    )
    email_verified = models.BooleanField(_("email verified"), default=False)
    #: When the identification number was proven to be the person's own: by their e-ID
    #: (its certificate carries the number) or by the operator who made the account. A
    #: number typed at registration proves nothing: what the number alone would reveal
    #: (who used the person's data) waits for this.
    personal_number_proven_at = models.DateTimeField(
        _("identification number proven"),
        null=True,
        blank=True,
        help_text=_(
            "When an e-ID, or the operator who made the account, proved that the "
            "identification number is the person's own."
        ),
    )
    language = models.CharField(
        _("language for messages"),
        max_length=5,
        choices=settings.LANGUAGES,
        default="be",
        help_text=_("Emails and text messages are written in this language."),
    )
    phone = models.CharField(
        _("mobile phone"),
        max_length=13,
        blank=True,
        validators=[phone_validator],
        help_text=_("For text messages, in the form +375291234567."),
    )
    notify_by_email = models.BooleanField(_("tell me by email"), default=True)
    notify_by_sms = models.BooleanField(_("tell me by text message"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    #: When the owner was last told that someone tried to register with their details: in
    #: the database, so every process keeps to one notice an hour.
    registration_notice_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="citizen_has_personal_number",
                condition=~Q(kind="citizen") | Q(personal_number__isnull=False),
            ),
            models.CheckConstraint(
                name="official_has_agency_and_role",
                condition=~Q(kind="official") | (Q(agency__isnull=False) & ~Q(official_role="")),
            ),
            models.CheckConstraint(
                name="only_officials_have_agency",
                condition=Q(kind="official") | Q(agency__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.patronymic) if part)

    @property
    def is_staff(self) -> bool:
        """Only platform administrators reach the Django admin."""
        return self.kind == UserKind.ADMIN and self.is_active

    @property
    def requires_second_factor(self) -> bool:
        return self.kind in (UserKind.OFFICIAL, UserKind.ADMIN)

    @property
    def is_staff_kind(self) -> bool:
        """Officials and admins get the shorter session limits."""
        return self.kind in (UserKind.OFFICIAL, UserKind.ADMIN)


class Representation(models.Model):
    """A business representative's right to act for a legal entity (by its УНП)."""

    class Basis(models.TextChoices):
        DIRECTOR = "director", _("Director (from the legal entities register)")
        MANDATE = "mandate", _("Power of attorney")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="representations")
    unp = models.CharField(
        _("payer account number (УНП)"), max_length=9, validators=[unp_validator]
    )
    organisation_name = models.CharField(_("organisation"), max_length=300)
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices)
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("representation")
        verbose_name_plural = _("representations")
        constraints = [
            models.UniqueConstraint(fields=["user", "unp"], name="one_representation_per_entity")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_name} ({self.unp})"


class ApiToken(models.Model):
    """A personal token for the REST API. Only its SHA-256 is kept; the person sees the token
    once. It carries the level of assurance of the session that issued it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    assurance = models.CharField(max_length=16, choices=LevelOfAssurance.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"


class EidChallenge(models.Model):
    """A one-time e-ID login challenge. Kept in the database, not the session, so that no
    process accepts one twice; only the SHA-256 of the random bytes is stored, and of the
    session's binding secret."""

    nonce_hash = models.CharField(max_length=64, unique=True)
    session_binding = models.CharField(max_length=64)
    origin = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("e-ID login challenge")
        verbose_name_plural = _("e-ID login challenges")

    def __str__(self) -> str:
        return f"e-ID challenge {self.pk}"
