"""Login with a second factor, registration, email verification, password reset, logout."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.core.errors import ApplicationError
from egov.identity import eid, services
from egov.identity import selectors as identity_selectors
from egov.identity.forms import CodeForm, EidAnswerForm, LoginForm, RegistrationForm
from egov.identity.models import LevelOfAssurance, User, UserKind
from egov.identity.throttling import ADDRESS, lockout_log

PENDING_USER = "egov_pending_user"
PENDING_AT = "egov_pending_at"
PENDING_NEXT = "egov_pending_next"
SETUP_DEVICE = "egov_setup_device"
PENDING_SECONDS = 300


def _safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _posted(request: HttpRequest) -> Any:
    """Bind a form on every POST, even an empty one, so it says what is missing."""
    return request.POST if request.method == "POST" else None


def _home_for(user: User) -> str:
    if user.kind == UserKind.OFFICIAL:
        return reverse("backoffice:home")
    if user.kind == UserKind.ADMIN:
        return reverse("admin:index")
    return reverse("portal:account")


def _pending_user(request: HttpRequest) -> User | None:
    """The person who passed the password step but not yet the second factor."""
    user_id = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT, 0)
    if not user_id or timezone.now().timestamp() - started > PENDING_SECONDS:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def _clear_pending(request: HttpRequest) -> str | None:
    request.session.pop(PENDING_USER, None)
    request.session.pop(PENDING_AT, None)
    request.session.pop(SETUP_DEVICE, None)
    return request.session.pop(PENDING_NEXT, None)


def login_throttled(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """What django-axes shows after too many failed logins: for one account from this
    address, or for any account from this address (``egov.identity.throttling``)."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    scope = lockout_log(request, str(username or "").strip().lower() or None)
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    context = {"minutes": minutes, "whole_address": scope == ADDRESS}
    return render(request, "identity/throttled.html", context, status=429)


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = LoginForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"].lower(),
            password=form.cleaned_data["password"],
        )
        if getattr(request, "axes_locked_out", False):
            return login_throttled(request)
        if user is None:
            form.add_error(
                None,
                _(
                    "The email address or the password is not right. If you registered "
                    "recently, first open the link we emailed you."
                ),
            )
        else:
            assert isinstance(user, User)
            device = services.confirmed_totp_device(user=user)
            if device is None and not user.requires_second_factor:
                services.session_start(request=request, user=user, level=LevelOfAssurance.LOW)
                return redirect(next_url or _home_for(user))
            request.session.cycle_key()
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_AT] = timezone.now().timestamp()
            request.session[PENDING_NEXT] = next_url
            return redirect("identity:login_code" if device else "identity:login_setup")
    return render(
        request,
        "identity/login.html",
        {"form": form, "eid_form": EidAnswerForm(), "next": next_url},
    )


@never_cache
@require_POST
def eid_challenge(request: HttpRequest) -> HttpResponse:
    """A one-time challenge for egov signer, bound to this session (JSON for eid-login.js)."""
    return JsonResponse(
        {"challenge": eid.eid_challenge_issue(request=request)},
        headers={"Cache-Control": "no-store"},
    )


def _eid_answer(request: HttpRequest, form: EidAnswerForm) -> dict[str, str] | None:
    if not form.is_valid():
        form.errors.clear()
        form.add_error(None, _("The e-ID login did not arrive whole. Start again."))
        return None
    return {
        name: form.cleaned_data[name] for name in ("challenge", "certificate", "chain", "signature")
    }


@sensitive_post_parameters("signature")
@never_cache
@require_POST
def eid_login(request: HttpRequest) -> HttpResponse:
    """Log in at the high level with the answer egov signer gave the page."""
    next_url = _safe_next(request, request.POST.get("next"))
    eid_form = EidAnswerForm(request.POST)
    answer = _eid_answer(request, eid_form)
    if answer is not None:
        try:
            user = eid.eid_login(request=request, **answer)
        except ApplicationError as error:
            eid_form.add_error(None, error.message)
        else:
            return redirect(next_url or _home_for(user))
    context = {"form": LoginForm(), "eid_form": eid_form, "next": next_url}
    return render(request, "identity/login.html", context, status=400)


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    device = services.confirmed_totp_device(user=user) if user else None
    if user is None or device is None:
        messages.error(request, _("Your login took too long. Enter your email and password again."))
        return redirect("identity:login")
    form = CodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        next_url = request.session.get(PENDING_NEXT)
        try:
            services.totp_verify(
                request=request, user=user, device=device, token=form.cleaned_data["token"]
            )
        except ApplicationError as error:
            form.add_error("token", error.message)
        else:
            _clear_pending(request)
            return redirect(next_url or _home_for(user))
    return render(request, "identity/login_code.html", {"form": form})


def _device_qr_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def _setup_page(
    request: HttpRequest, *, user: User, form: CodeForm, action: str, mandatory: bool
) -> HttpResponse:
    device = TOTPDevice.objects.filter(
        pk=request.session.get(SETUP_DEVICE), user=user, confirmed=False
    ).first()
    if device is None:
        device = services.totp_device_begin(user=user)
        request.session[SETUP_DEVICE] = device.pk
    context = {
        "form": form,
        "qr_svg": _device_qr_svg(device),
        "secret": services.totp_key_base32(device.key),
        "action": action,
        "mandatory": mandatory,
    }
    return render(request, "identity/two_factor_setup.html", context)


def _confirm_device(request: HttpRequest, user: User, form: CodeForm) -> bool:
    """Confirm the device being set up with the code typed; on failure the form says why."""
    try:
        services.totp_device_confirm(
            request=request,
            user=user,
            device_id=request.session.get(SETUP_DEVICE, 0),
            token=form.cleaned_data["token"],
        )
    except ApplicationError as error:
        form.add_error("token", error.message)
        return False
    request.session.pop(SETUP_DEVICE, None)
    messages.success(request, _("Your authenticator app is set up."))
    return True


@never_cache
@require_http_methods(["GET", "POST"])
def login_setup(request: HttpRequest) -> HttpResponse:
    """An official or admin without an authenticator app sets one up before going further."""
    user = _pending_user(request)
    if user is None:
        messages.error(request, _("Your login took too long. Enter your email and password again."))
        return redirect("identity:login")
    if services.confirmed_totp_device(user=user) is not None:
        # Whoever knows the password must not swap in an app of their own: the code it is.
        return redirect("identity:login_code")
    if not user.requires_second_factor:
        return redirect("identity:login")
    form = CodeForm(_posted(request))
    if request.method == "POST" and form.is_valid() and _confirm_device(request, user, form):
        next_url = _clear_pending(request)
        return redirect(next_url or _home_for(user))
    return _setup_page(
        request, user=user, form=form, action=reverse("identity:login_setup"), mandatory=True
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """A citizen turns on the second factor (optional for them) from their account."""
    user = request.user
    assert isinstance(user, User)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    here = request.get_full_path()
    has_app = services.confirmed_totp_device(user=user) is not None
    proven = identity_selectors.session_meets(
        request=request, required=LevelOfAssurance.SUBSTANTIAL
    )
    if has_app and not proven:
        # Replacing the app needs a code from the current one first.
        return redirect(f"{reverse('identity:step_up')}?{urlencode({'next': here})}")
    form = CodeForm(_posted(request))
    if request.method == "POST" and form.is_valid() and _confirm_device(request, user, form):
        return redirect(next_url or reverse("portal:account"))
    action = reverse("identity:two_factor_setup")
    if next_url:
        action += f"?{urlencode({'next': next_url})}"
    return _setup_page(request, user=user, form=form, action=action, mandatory=False)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    """Ask a logged-in person for the second factor before a service that needs it."""
    user = request.user
    assert isinstance(user, User)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.GET.get("level") == LevelOfAssurance.HIGH:
        # Only the e-ID proves "high": no code from an app is asked for.
        context = {"form": CodeForm(), "eid_form": EidAnswerForm(), "next": next_url, "high": True}
        return render(request, "identity/step_up.html", context)
    device = services.confirmed_totp_device(user=user)
    if device is None:
        target = reverse("identity:two_factor_setup")
        return redirect(f"{target}?{urlencode({'next': next_url})}" if next_url else target)
    form = CodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.totp_verify(
                request=request, user=user, device=device, token=form.cleaned_data["token"]
            )
        except ApplicationError as error:
            form.add_error("token", error.message)
        else:
            return redirect(next_url or reverse("portal:account"))
    return render(
        request,
        "identity/step_up.html",
        {"form": form, "eid_form": EidAnswerForm(), "next": next_url},
    )


@login_required
@sensitive_post_parameters("signature")
@never_cache
@require_POST
def eid_step_up(request: HttpRequest) -> HttpResponse:
    """Raise the session to the high level with the person's own e-ID."""
    next_url = _safe_next(request, request.POST.get("next"))
    eid_form = EidAnswerForm(request.POST)
    answer = _eid_answer(request, eid_form)
    if answer is not None:
        try:
            eid.eid_step_up(request=request, **answer)
        except ApplicationError as error:
            eid_form.add_error(None, error.message)
        else:
            return redirect(next_url or reverse("portal:account"))
    context = {"form": CodeForm(), "eid_form": eid_form, "next": next_url, "high": True}
    return render(request, "identity/step_up.html", context, status=400)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You have logged out."))
    return redirect("portal:home")


@sensitive_post_parameters("password", "password_repeat")
@never_cache
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.citizen_register(
                email=data["email"],
                password=data["password"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                patronymic=data["patronymic"],
                personal_number=data["personal_number"],
                language=get_language() or "be",
                mailbox_mark=_mailbox_mark(request),
            )
        except ApplicationError as error:
            form.add_error(error.field, error.message)
        else:
            # The same answer whether the details were new or taken (see citizen_register).
            request.session["egov_registered_email"] = data["email"]
            return redirect("identity:register_done")
    return render(request, "identity/register.html", {"form": form})


def _mailbox_mark(request: HttpRequest) -> str:
    """The demo mailbox's mark for this browser (its middleware puts a function on the
    request that gives it); none outside the demo."""
    mark = getattr(request, "egov_mailbox_mark", None)
    return str(mark()) if callable(mark) else ""


def register_done(request: HttpRequest) -> HttpResponse:
    email = request.session.get("egov_registered_email")
    return render(request, "identity/register_done.html", {"email": email})


@never_cache
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.citizen_verify_email(token=token)
    except ApplicationError as error:
        return render(
            request, "identity/verify_failed.html", {"message": error.message}, status=400
        )
    messages.success(request, _("Your email address is confirmed. You can log in now."))
    return HttpResponseRedirect(reverse("identity:login"))


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "identity/password_reset.html"
    success_url = reverse_lazy("identity:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        # One task queued, whether or not an account has the address, and nothing sent: the
        # worker sends the email (links to the public address) and retries a failing mail
        # server, so neither the answer nor its timing tells whether an account exists.
        services.password_reset_request(
            email=form.cleaned_data["email"], language=get_language() or "be"
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "identity/password_reset_confirm.html"
    success_url = reverse_lazy("identity:password_reset_complete")
