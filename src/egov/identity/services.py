"""Write use cases of identity: registering, verifying, logging in, second factors."""

from __future__ import annotations

import base64
import hashlib
import smtplib
from datetime import timedelta

import structlog
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.mail import EmailMessage, send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.core.errors import ApplicationError
from egov.core.logging import security_event
from egov.exchange.client import (
    ExchangeError,
    Purpose,
    exchange_get_json,
    registry_service,
    user_id_for,
)
from egov.identity.models import LevelOfAssurance, Representation, User, UserKind
from egov.identity.selectors import SESSION_LOA
from egov.identity.validators import validate_personal_number

EMAIL_VERIFICATION_SALT = "egov.identity.email-verification"
logger = structlog.get_logger(__name__)

SESSION_LOGIN_AT = "egov_login_at"
SESSION_SEEN_AT = "egov_seen_at"


class RegistrationError(ApplicationError):
    code = "registration_failed"


class VerificationLinkError(ApplicationError):
    code = "verification_link_invalid"


class SecondFactorError(ApplicationError):
    code = "second_factor_invalid"


def citizen_register(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    patronymic: str,
    personal_number: str,
    language: str,
    mailbox_mark: str = "",
) -> User | None:
    """Create an inactive citizen account and queue the email with the link that activates it.

    Whether an email address or an identification number already has an account is never
    told to whoever fills in the form: with details that are taken, nothing is created, a
    task is queued that tells the owner of the existing account by email (in their language)
    that someone tried, and the answer is the same as for a new account (``None`` instead of
    the user). Only the owner of the address or the number learns anything.

    Both paths do the same work in the request: the password hash and one task written in
    one transaction; no mail server is contacted (the worker sends, and retries a failure).
    ``mailbox_mark`` is handed to the confirmation email as :data:`MAILBOX_MARK_HEADER` (the
    demo's mailbox uses it to show the email to the browser that registered)."""
    number = validate_personal_number(personal_number)
    email = User.objects.normalize_email(email).lower()
    _unconfirmed_expired_delete(email=email, personal_number=number)
    owners = _registration_holders(email=email, personal_number=number)
    if owners:
        make_password(password)  # the same work as a new account: no timing difference
        with transaction.atomic():
            _registration_notice_enqueue(owner_ids=owners)
        return None
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email,
                password,
                kind=UserKind.CITIZEN,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                patronymic=patronymic.strip(),
                personal_number=number,
                is_active=False,
            )
            from egov.identity.tasks import verification_email_send

            verification_email_send.enqueue(user.pk, language, mailbox_mark)
    except IntegrityError:
        # Two registrations with the same email or number raced; the other one won.
        with transaction.atomic():
            _registration_notice_enqueue(
                owner_ids=_registration_holders(email=email, personal_number=number)
            )
        return None
    return user


def _registration_holders(*, email: str, personal_number: str) -> list[int]:
    """The accounts that hold the email address or the number."""
    return list(
        User.objects.filter(Q(email__iexact=email) | Q(personal_number=personal_number))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


#: At most one "someone tried to register" email per account in this many seconds, so that
#: nobody can flood a person's mailbox through the registration form.
REGISTRATION_NOTICE_INTERVAL = 3600
#: Header of the confirmation email carrying the registering browser's mark (demo mailbox).
MAILBOX_MARK_HEADER = "X-Egov-Demo-Mailbox"
#: Minutes to wait before sending a confirmation email again after the mail server failed.
VERIFICATION_RETRY_MINUTES = (1, 5, 15, 60)


def _registration_notice_enqueue(*, owner_ids: list[int]) -> None:
    """One task for every attempt, whoever holds the details and whenever they were last
    told: the request does the same work, and the task decides whether to write."""
    from egov.identity.tasks import registration_notice_send

    registration_notice_send.enqueue(owner_ids)


def registration_notice_run(*, owner_ids: list[int]) -> int:
    """Tell the owners of the accounts that someone tried to register with their details;
    returns how many were told. An account whose address is not confirmed yet is not written
    to: its address may not be its owner's. An owner told within the last hour is not told
    again: the mark is taken with one conditional UPDATE, so of all the processes and
    workers at most one wins it. A mail failure gives the mark back, so the next attempt
    tells them."""
    told = 0
    for owner in User.objects.filter(pk__in=owner_ids, email_verified=True).order_by("pk"):
        now = timezone.now()
        marked = (
            User.objects.filter(pk=owner.pk)
            .filter(
                Q(registration_notice_at__isnull=True)
                | Q(
                    registration_notice_at__lte=now
                    - timedelta(seconds=REGISTRATION_NOTICE_INTERVAL)
                )
            )
            .update(registration_notice_at=now)
        )
        if not marked:
            continue
        language = owner.language if owner.language in dict(settings.LANGUAGES) else "be"
        with translation.override(language):
            subject = _("Someone tried to register with your details")
            body = render_to_string(
                "identity/email/registration_attempt.txt",
                {"user": owner, "base_url": settings.PORTAL_BASE_URL},
            )
        try:
            send_mail(subject, body, None, [owner.email])
        except (OSError, smtplib.SMTPException):
            User.objects.filter(pk=owner.pk, registration_notice_at=now).update(
                registration_notice_at=owner.registration_notice_at
            )
            logger.warning("registration notice could not be sent", user_id=owner.pk)
            continue
        security_event("registration_attempt_with_existing_details", user_id=owner.pk)
        told += 1
    return told


def _unconfirmed_expired_delete(*, email: str, personal_number: str) -> None:
    """An account whose confirmation link expired unused holds nothing: free its email and
    number, so nobody can block a person by registering their number with another address."""
    cutoff = timezone.now() - timedelta(seconds=settings.EMAIL_VERIFICATION_SECONDS)
    User.objects.filter(
        Q(email__iexact=email) | Q(personal_number=personal_number),
        email_verified=False,
        is_active=False,
        last_login__isnull=True,
        date_joined__lt=cutoff,
    ).delete()


def _email_fingerprint(email: str) -> str:
    """Ties a link to the address it was sent to without putting the address in the URL."""
    return hashlib.sha256(email.lower().encode()).hexdigest()[:16]


def verification_email_run(
    *, user_id: int, language: str, mailbox_mark: str = "", attempt: int = 1
) -> str:
    """Send the confirmation link of a new account (run by the worker). An account that is
    gone or already confirmed gets nothing; a mail server that fails is tried again later
    (a confirmation sent twice is harmless: both links work until the first is used)."""
    from egov.identity.tasks import verification_email_send

    user = User.objects.filter(pk=user_id, email_verified=False).first()
    if user is None:
        return "skipped"
    token = signing.dumps(
        {"user": user.pk, "email": _email_fingerprint(user.email)}, salt=EMAIL_VERIFICATION_SALT
    )
    with translation.override(language):
        path = reverse("identity:verify_email", kwargs={"token": token})
        context = {
            "user": user,
            "link": f"{settings.PORTAL_BASE_URL}{path}",
            "hours": settings.EMAIL_VERIFICATION_SECONDS // 3600,
        }
        subject = _("Confirm your email address")
        body = render_to_string("identity/email/verify_email.txt", context)
    headers = {MAILBOX_MARK_HEADER: mailbox_mark} if mailbox_mark else {}
    try:
        EmailMessage(subject, body, None, [user.email], headers=headers).send()
    except (OSError, smtplib.SMTPException):
        if attempt > len(VERIFICATION_RETRY_MINUTES):
            logger.error("verification email gave up", user_id=user.pk, attempts=attempt)
            return "gave up"
        logger.warning("verification email could not be sent", user_id=user.pk, attempt=attempt)
        wait = timedelta(minutes=VERIFICATION_RETRY_MINUTES[attempt - 1])
        verification_email_send.using(run_after=timezone.now() + wait).enqueue(
            user.pk, language, mailbox_mark, attempt + 1
        )
        return "retry"
    return "sent"


#: Minutes to wait before sending a password reset email again after the mail server failed.
PASSWORD_RESET_RETRY_MINUTES = VERIFICATION_RETRY_MINUTES


def password_reset_request(*, email: str, language: str) -> None:
    """Queue the password reset email for the address; the worker sends it.

    Exactly one task is queued whether or not an account has the address (with the ids of
    the accounts Django would send to, maybe none), and no mail server is contacted: the
    answer and its timing do not tell whether the address has an account."""
    from django.contrib.auth.forms import PasswordResetForm

    from egov.identity.tasks import password_reset_send

    user_ids = sorted(user.pk for user in PasswordResetForm().get_users(email))
    with transaction.atomic():
        password_reset_send.enqueue(user_ids, language)


def password_reset_run(*, user_ids: list[int], language: str, attempt: int = 1) -> int:
    """Send Django's password reset email to the accounts (run by the worker); returns how
    many were sent. An account that became inactive or lost its usable password gets
    nothing; a mail server that fails is tried again later for that account (an email sent
    twice is harmless: its link works once, until the password changes)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from egov.identity.tasks import password_reset_send

    if language not in dict(settings.LANGUAGES):
        language = "be"
    sent = 0
    for user in User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"):
        if not user.has_usable_password():
            continue
        context = {
            "user": user,
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
            "base_url": settings.PORTAL_BASE_URL,
        }
        with translation.override(language):
            subject = "".join(
                render_to_string("identity/email/password_reset_subject.txt", context).splitlines()
            )
            body = render_to_string("identity/email/password_reset.txt", context)
        try:
            EmailMessage(subject, body, None, [user.email]).send()
        except (OSError, smtplib.SMTPException):
            if attempt > len(PASSWORD_RESET_RETRY_MINUTES):
                logger.error("password reset email gave up", user_id=user.pk, attempts=attempt)
                continue
            logger.warning(
                "password reset email could not be sent", user_id=user.pk, attempt=attempt
            )
            wait = timedelta(minutes=PASSWORD_RESET_RETRY_MINUTES[attempt - 1])
            password_reset_send.using(run_after=timezone.now() + wait).enqueue(
                [user.pk], language, attempt + 1
            )
            continue
        logger.info("password reset email sent", user_id=user.pk, attempt=attempt)
        sent += 1
    return sent


def citizen_verify_email(*, token: str) -> User:
    """Activate the account the link was sent for. An expired, altered or already used link
    changes nothing."""
    try:
        payload = signing.loads(
            token, salt=EMAIL_VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_SECONDS
        )
    except signing.SignatureExpired:
        raise VerificationLinkError(
            _("This link has expired. Register again to get a new one.")
        ) from None
    except signing.BadSignature:
        raise VerificationLinkError(
            _("This link is not valid. Copy the whole link from the email and try again.")
        ) from None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=payload.get("user")).first()
        if user is None or _email_fingerprint(user.email) != payload.get("email"):
            raise VerificationLinkError(_("This link is not valid."))
        if user.email_verified:
            raise VerificationLinkError(
                _("This email address is already confirmed. You can log in.")
            )
        user.email_verified = True
        user.is_active = True
        user.save(update_fields=["email_verified", "is_active"])
    return user


def session_start(*, request: HttpRequest, user: User, level: str) -> None:
    """Log the person in and record how strongly the login proved who they are."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    language = translation.get_language()
    if language in dict(settings.LANGUAGES) and user.language != language:
        # Messages are sent in the language the person last used the portal in.
        user.language = language
        user.save(update_fields=["language"])
    now = timezone.now().timestamp()
    request.session[SESSION_LOA] = level
    request.session[SESSION_LOGIN_AT] = now
    request.session[SESSION_SEEN_AT] = now
    if user.kind == UserKind.BUSINESS and user.personal_number:
        try:
            representations_refresh(user=user)
        except ExchangeError as error:
            # The rights already on file still hold; the next login tries again.
            logger.warning("representations of user %s not refreshed: %s", user.pk, error)


#: The legal entities register and its service listing the entities a person directs; the
#: identifier is the register's provider subsystem (``EGOV_REGISTRY_LEGAL_ENTITIES_SUBSYSTEM``)
#: and this code.
DIRECTED_BY_REGISTER = "legal_entities"
DIRECTED_BY_SERVICE_CODE = "directed-by"


def directed_by_service() -> str:
    """``BY/GOV/MINJUST/legal-entities/directed-by`` in the demo; "" in a country without a
    legal entities register."""
    return registry_service(DIRECTED_BY_REGISTER, DIRECTED_BY_SERVICE_CODE)


def representations_refresh(*, user: User) -> dict[str, int]:
    """Bring the person's director rights in line with the legal entities register: a right
    for every active entity it lists them as director of, the end (today) of a director right
    it no longer lists. Powers of attorney are not the register's: they are left alone. In a
    country without the register nothing is asked and nothing changes.

    Raises ``ExchangeError`` when the register cannot be asked; nothing changes then."""
    counts = {"added": 0, "kept": 0, "ended": 0}
    service = directed_by_service()
    if not user.personal_number or not service:
        return counts
    document = exchange_get_json(
        service=service,
        path=user.personal_number,
        user_id=user_id_for(user),
        purpose=Purpose.REPRESENTATION,
    )
    listed: dict[str, str] = {}
    for entity in document.get("entities", []) if isinstance(document, dict) else []:
        unp = str(entity.get("unp", ""))
        if entity.get("status") != "active" or not unp.isdigit() or len(unp) != 9:
            continue
        names = entity.get("short_name") or entity.get("name") or {}
        listed[unp] = str(names.get("be") or names.get("ru") or unp)[:300]
    today = timezone.localdate()
    with transaction.atomic():
        rows = {
            row.unp: row for row in Representation.objects.select_for_update().filter(user=user)
        }
        for unp, name in listed.items():
            row = rows.get(unp)
            if row is None:
                Representation.objects.create(
                    user=user,
                    unp=unp,
                    organisation_name=name,
                    basis=Representation.Basis.DIRECTOR,
                    valid_from=today,
                )
                counts["added"] += 1
            elif row.basis == Representation.Basis.DIRECTOR:
                if row.valid_until is not None and row.valid_until <= today:
                    row.valid_from, counts["added"] = today, counts["added"] + 1
                else:
                    counts["kept"] += 1
                row.organisation_name = name
                row.valid_until = None
                row.save(update_fields=["organisation_name", "valid_from", "valid_until"])
        for unp, row in rows.items():
            if (
                row.basis == Representation.Basis.DIRECTOR
                and unp not in listed
                and (row.valid_until is None or row.valid_until > today)
            ):
                row.valid_until = today
                row.save(update_fields=["valid_until"])
                counts["ended"] += 1
    return counts


def confirmed_totp_device(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def totp_verify(*, request: HttpRequest, user: User, device: TOTPDevice, token: str) -> None:
    """Check a code from the authenticator app; on success the session becomes substantial.

    django-otp's device throttling slows guessing: after each failure the next attempt must
    wait longer."""
    token = (token or "").strip().replace(" ", "")
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise SecondFactorError(
            _("Too many wrong codes. Wait a minute, then enter the newest code from your app.")
        )
    if not token.isdigit() or len(token) != 6 or not device.verify_token(token):
        raise SecondFactorError(
            _("The code is not right. Enter the 6-digit code your authenticator app shows now.")
        )
    _assurance_raise(request=request, user=user, device=device)


def totp_device_begin(*, user: User) -> TOTPDevice:
    """An unconfirmed device whose secret the person adds to their authenticator app."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)


def totp_device_confirm(
    *, request: HttpRequest, user: User, device_id: int, token: str
) -> TOTPDevice:
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device_id, user=user, confirmed=False)
            .first()
        )
        if device is None:
            raise SecondFactorError(_("Setting up the app took too long. Start again."))
        token = (token or "").strip().replace(" ", "")
        if not token.isdigit() or len(token) != 6 or not device.verify_token(token):
            raise SecondFactorError(
                _("The code is not right. Enter the 6-digit code your authenticator app shows now.")
            )
        replaced = TOTPDevice.objects.filter(user=user, confirmed=True).delete()[0] > 0
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    _assurance_raise(request=request, user=user, device=device)
    _send_security_notice(user=user, replaced=replaced)
    return device


def _send_security_notice(*, user: User, replaced: bool) -> None:
    """Tell the owner an app was added, so a stranger who has the password cannot do it
    unnoticed. A mail failure is logged, not shown: the app is set up either way."""
    # In the language of the page the person is using now.
    subject = _("An authenticator app was added to your account")
    body = render_to_string(
        "identity/email/device_added.txt",
        {"user": user, "replaced": replaced, "base_url": settings.PORTAL_BASE_URL},
    )
    try:
        send_mail(subject, body, None, [user.email])
    except (OSError, smtplib.SMTPException):
        logger.warning("security notice could not be sent to user %s", user.pk, exc_info=True)


def _assurance_raise(*, request: HttpRequest, user: User, device: TOTPDevice) -> None:
    """After a good second factor: log in (or stay logged in) at the substantial level."""
    if request.user.is_authenticated and request.user.pk == user.pk:
        request.session.cycle_key()  # a stronger session gets a new key
        otp_login(request, device)
        if request.session.get(SESSION_LOA) != LevelOfAssurance.HIGH:
            # A code from an app never lowers a session the e-ID raised to "high".
            request.session[SESSION_LOA] = LevelOfAssurance.SUBSTANTIAL
    else:
        session_start(request=request, user=user, level=LevelOfAssurance.SUBSTANTIAL)
        otp_login(request, device)


def totp_key_base32(hex_key: str) -> str:
    """A TOTP key (stored as hex) as authenticator apps want it typed."""
    return base64.b32encode(bytes.fromhex(hex_key)).decode().rstrip("=")


def user_preferences_update(
    *, user: User, language: str, notify_by_email: bool, notify_by_sms: bool, phone: str
) -> User:
    """How the person wants to be told about their applications."""
    from django.core.exceptions import ValidationError

    from egov.identity.validators import phone_validator

    errors = {}
    phone = phone.replace(" ", "").replace("-", "")
    if language not in dict(settings.LANGUAGES):
        errors["language"] = _("Choose a language.")
    if phone:
        try:
            phone_validator(phone)
        except ValidationError as error:
            errors["phone"] = str(error.messages[0])
    if notify_by_sms and not phone:
        errors["phone"] = _("Enter a mobile number to get text messages.")
    if errors:
        raise PreferencesInvalid(errors)
    user.language = language
    user.notify_by_email = notify_by_email
    user.notify_by_sms = notify_by_sms
    user.phone = phone
    user.save(update_fields=["language", "notify_by_email", "notify_by_sms", "phone"])
    return user


class PreferencesInvalid(ApplicationError):
    code = "preferences_invalid"
    http_status = 400

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(_("Some answers need correcting."))
        self.errors = errors
