from django.contrib.auth import views as auth_views
from django.urls import path

from egov.identity import views

app_name = "identity"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("login/set-up-app/", views.login_setup, name="login_setup"),
    path("login/e-id/", views.eid_login, name="eid_login"),
    path("login/e-id/challenge/", views.eid_challenge, name="eid_challenge"),
    path("verify/e-id/", views.eid_step_up, name="eid_step_up"),
    path("logout/", views.logout_view, name="logout"),
    path("verify/", views.step_up, name="step_up"),
    path("two-factor/", views.two_factor_setup, name="two_factor_setup"),
    path("register/", views.register, name="register"),
    path("register/check-email/", views.register_done, name="register_done"),
    path("register/confirm/<str:token>/", views.verify_email, name="verify_email"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="identity/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="identity/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
