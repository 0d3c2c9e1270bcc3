"""The one settings module. Every value that differs between deployments comes from an
environment variable declared in :mod:`egov.env`, with a safe production default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from egov.core.logging import configure_structlog, logging_config
from egov.core.proxies import networks_parse
from egov.env import ENV

PACKAGE_DIR = Path(__file__).resolve().parent

DATA_DIR = Path(
    ENV.str(
        "EGOV_DATA_DIR",
        "var",
        "Folder for the embedded database, uploaded files, collected static files and keys. "
        "Relative paths are resolved from the working directory.",
        example="/var/lib/egov",
    )
).resolve()

DEMO_MODE = ENV.bool(
    "EGOV_DEMO",
    False,
    "Demo country mode: shows the demo accounts on the start page, generates a secret key "
    "into the data folder and gives the demo's loopback addresses as defaults. Never on in "
    "production: without it every required variable must be given.",
)
# Defaults marked `demo=` apply only to the demo; outside it, `required=` values must be given.
ENV.demo = DEMO_MODE

DEBUG = ENV.bool("DEBUG", False, "Django's debug mode. Never on in production.")
SECRET_KEY = ENV.secret(
    "SECRET_KEY",
    "Signs sessions, tokens and links; the same on every host of a deployment. Required in "
    "production (generate one with `python3 -c 'import secrets; "
    "print(secrets.token_urlsafe(50))'`); the demo generates one and keeps it in the data "
    "folder.",
    required=True,
)
if not SECRET_KEY and DEMO_MODE:
    from egov.core.secrets import load_or_create_secret_key

    SECRET_KEY = load_or_create_secret_key(DATA_DIR)

ALLOWED_HOSTS = ENV.list(
    "ALLOWED_HOSTS",
    ["127.0.0.1", "localhost"],
    "Host names this deployment answers to.",
    example="egov.example",
)
CSRF_TRUSTED_ORIGINS = ENV.list(
    "CSRF_TRUSTED_ORIGINS", [], "Origins trusted for form posts behind a proxy (https://...)."
)
INSECURE_HTTP = ENV.bool(
    "EGOV_INSECURE_HTTP",
    False,
    "Serve over plain HTTP on loopback (the demo): turns off secure-only cookies, HTTPS "
    "redirect and HSTS. Never on in production.",
)

INSTALLED_APPS = [
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "django_tasks",
    "django_tasks_db",
    "egov.core",
    "egov.trust",
    "egov.audit",
    "egov.documents",
    "egov.exchange.central",
    "egov.exchange.gateway",
    "egov.registries.addresses",
    "egov.registries.population",
    "egov.registries.legal_entities",
    "egov.identity",
    "egov.catalog",
    "egov.notifications",
    "egov.cases",
    "egov.portal",
    "egov.backoffice",
    "egov.api",
    "egov.demo",
]

MIDDLEWARE = [
    # First: forwarded headers from anyone but the trusted proxies are gone before any other
    # middleware reads them (egov.core.proxies).
    "egov.core.proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything that reads a body (the CSRF check reads forms): see egov.core.uploads.
    "egov.core.uploads.RequestSizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "egov.core.request_logging.RequestLogMiddleware",
    # Inside the request line's middleware: its request id is still bound here.
    "egov.core.access_log.AccessLogMiddleware",
    "egov.demo.mailbox.DemoMailboxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "egov.identity.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = ENV.str(
    "EGOV_ROOT_URLCONF",
    "egov.urls",
    "Which set of pages this process serves: `egov.urls` (portal, back office, API, central "
    "registry) or `egov.registries.urls` (the base registries' services, reachable only "
    "through the exchange).",
)
if ROOT_URLCONF == "egov.registries.urls":
    # The registries' process answers machines (its gateway), not browsers: no sessions,
    # logins, CSRF tokens or pages; the language of error titles still follows the request.
    MIDDLEWARE = [
        "egov.core.proxies.TrustedProxyMiddleware",
        "egov.core.access_log.AccessLogMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django.middleware.common.CommonMiddleware",
    ]
    # Neither the admin nor logins are served here: their middleware checks do not apply.
    SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410", "axes.W002"]
WSGI_APPLICATION = "egov.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "egov.core.context_processors.platform",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------
# Lower case: not a setting, which a debug page, `diffsettings` or a settings dump would show
# with its password (DATABASES keeps the parts, its PASSWORD hidden by Django's filters).
database_url = ENV.secret(
    "DATABASE_URL",
    "Database URL. Empty means the embedded SQLite file `egov.sqlite3` in the data folder; "
    "production uses PostgreSQL, e.g. postgres://egov:PASSWORD@db.example/egov.",
    example="postgres://egov:PASSWORD@127.0.0.1:5432/egov",
)
DATABASES = {
    "default": ENV.url_config(
        "DATABASE_URL",
        database_url or f"sqlite:///{DATA_DIR / 'egov.sqlite3'}",
        environ.Env.db_url_config,
        fallback={"ENGINE": "django.db.backends.dummy"},
    )
}
if not database_url:
    from egov.core.secrets import private_file

    # Created here as 0600 in a 0700 data folder, before SQLite would create it by the umask.
    private_file(DATA_DIR / "egov.sqlite3")
CONN_MAX_AGE = ENV.int(
    "DATABASE_CONN_MAX_AGE", 60, "Seconds a PostgreSQL connection is kept open for reuse."
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE avoids lock upgrades that fail.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; "
            "PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = CONN_MAX_AGE
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": ENV.url_config(
        "CACHE_URL",
        ENV.secret(
            "CACHE_URL",
            "Cache URL. The default is a cache inside each process; with several processes use "
            "a shared one (redis://127.0.0.1:6379/1) so edits reach every process at once.",
            default="locmemcache://egov",
            example="redis://127.0.0.1:6379/1",
        ),
        environ.Env.cache_url_config,
        fallback={"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    )
}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    CACHES["default"]["OPTIONS"] = {"MAX_ENTRIES": 5000}
PAGE_CACHE_SECONDS = ENV.int(
    "EGOV_PAGE_CACHE_SECONDS",
    60,
    "Seconds an anonymous catalogue page may be served from the cache; 0 turns it off. An "
    "edit clears it at once in the editing process (in all of them with a shared cache).",
)

# --- identity -------------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "portal:account"
LOGOUT_REDIRECT_URL = "portal:home"
PASSWORD_RESET_TIMEOUT = ENV.int(
    "EGOV_PASSWORD_RESET_SECONDS", 3600, "How long a password-reset link stays valid."
)
EMAIL_VERIFICATION_SECONDS = ENV.int(
    "EGOV_EMAIL_VERIFICATION_SECONDS",
    86400,
    "How long an email-verification link for a new account stays valid.",
)
OTP_TOTP_ISSUER = "egov"

AXES_FAILURE_LIMIT = ENV.int(
    "EGOV_LOGIN_FAILURE_LIMIT", 5, "Failed logins for one account and address before a pause."
)
AXES_COOLOFF_TIME = (
    ENV.int("EGOV_LOGIN_COOLOFF_MINUTES", 15, "Minutes a throttled login must wait.") / 60
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Password spraying (one password against many accounts) is slowed per address, across
# accounts, at a higher limit: people behind one shared address must not lock each other out.
AXES_HANDLER = "egov.identity.throttling.LoginThrottleHandler"
# An IPv6 client is counted by its /64: it can pick any address in it.
AXES_CLIENT_IP_CALLABLE = "egov.identity.throttling.client_address"
LOGIN_ADDRESS_FAILURE_LIMIT = ENV.int(
    "EGOV_LOGIN_ADDRESS_FAILURE_LIMIT",
    20,
    "Failed logins from one address, for any accounts, before logins from it pause.",
)
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "egov.identity.views.login_throttled"
AXES_VERBOSE = False
PROXY_COUNT = ENV.int(
    "EGOV_PROXY_COUNT",
    0,
    "How many trusted reverse proxies stand in front of the web servers. Login throttling "
    "then takes the client's address from X-Forwarded-For instead of the proxy's (only on "
    "connections from `EGOV_TRUSTED_PROXIES`: from anyone else the header is removed).",
    example="1",
)
if PROXY_COUNT:
    # The proxy next to the web servers (deploy/nginx/) sets X-Forwarded-For itself, without
    # its own address: the header holds the client and the proxies before it, if they append.
    AXES_IPWARE_PROXY_COUNT = PROXY_COUNT - 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

TRUSTED_PROXIES = ENV.list(
    "EGOV_TRUSTED_PROXIES",
    [],
    "Addresses or networks (CIDR) of the reverse proxies in front of the web servers. "
    "X-Forwarded-Proto, X-Forwarded-For and X-Request-ID are honoured only on their "
    "connections and removed from every other request; gunicorn trusts the same list. Empty "
    "trusts no one.",
    example="127.0.0.1",
)
try:
    networks_parse(TRUSTED_PROXIES)
except ValueError as error:
    ENV.invalid("EGOV_TRUSTED_PROXIES", str(error))
    TRUSTED_PROXIES = []

SESSION_IDLE_MINUTES = {
    "public": ENV.int(
        "EGOV_SESSION_IDLE_MINUTES",
        30,
        "Minutes without activity after which a citizen's or business user's session ends.",
    ),
    "staff": ENV.int(
        "EGOV_STAFF_SESSION_IDLE_MINUTES",
        15,
        "Minutes without activity after which an official's or admin's session ends.",
    ),
}
SESSION_ABSOLUTE_MINUTES = {
    "public": ENV.int(
        "EGOV_SESSION_ABSOLUTE_MINUTES",
        12 * 60,
        "Minutes after login at which a citizen's session ends however active it is.",
    ),
    "staff": ENV.int(
        "EGOV_STAFF_SESSION_ABSOLUTE_MINUTES",
        8 * 60,
        "Minutes after login at which an official's or admin's session ends.",
    ),
}
SESSION_COOKIE_AGE = max(SESSION_ABSOLUTE_MINUTES.values()) * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not INSECURE_HTTP
CSRF_COOKIE_SECURE = not INSECURE_HTTP
LANGUAGE_COOKIE_SECURE = not INSECURE_HTTP
LANGUAGE_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = (
    ENV.bool(
        "EGOV_SSL_REDIRECT",
        True,
        "Redirect plain HTTP to HTTPS (turn off when TLS ends at a proxy that already redirects).",
    )
    and not INSECURE_HTTP
)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if INSECURE_HTTP else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "manifest-src": [SELF],
    }
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500

# --- languages ------------------------------------------------------------------------------
LANGUAGE_CODE = "be"
LANGUAGES = [
    ("be", _("Belarusian")),
    ("ru", _("Russian")),
    ("en", _("English")),
]
MODELTRANSLATION_DEFAULT_LANGUAGE = "be"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("be", "ru", "en")
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Minsk"
LANGUAGE_COOKIE_NAME = "egov_language"

# --- static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(
    ENV.str(
        "EGOV_STATIC_ROOT",
        "",
        "Folder `collectstatic` writes the static files to. Empty means `static` in the data "
        "folder (the demo: the web server serves them); behind nginx, a folder outside the "
        "private data folder that nginx can read, e.g. /srv/egov/static.",
        example="/srv/egov/static",
    )
    or DATA_DIR / "static"
).resolve()
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
# Uploaded files are personal data: only the platform's user reads them, whatever the umask.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": ENV.str(
            "EGOV_STATICFILES_STORAGE",
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
            "Storage class for static files; the default needs `collectstatic` first.",
        )
    },
}
if STORAGES["staticfiles"]["BACKEND"].startswith(("django.contrib.staticfiles.", "whitenoise.")):
    # Static files are public (nginx serves them as its own user): not the uploads' modes.
    STORAGES["staticfiles"]["OPTIONS"] = {
        "file_permissions_mode": 0o644,
        "directory_permissions_mode": 0o755,
    }
WHITENOISE_USE_FINDERS = ENV.bool(
    "EGOV_STATIC_FROM_SOURCE",
    False,
    "Serve static files straight from the source tree (tests and development).",
)

# --- email ----------------------------------------------------------------------------------
EMAIL_HOST = ENV.str("EMAIL_HOST", "127.0.0.1", "SMTP server host.")
EMAIL_PORT = ENV.int("EMAIL_PORT", 25, "SMTP server port.", demo=1025)
EMAIL_HOST_USER = ENV.str("EMAIL_HOST_USER", "", "SMTP user name, if the server wants one.")
EMAIL_HOST_PASSWORD = ENV.secret("EMAIL_HOST_PASSWORD", "SMTP password.", empty_file=True)
EMAIL_USE_TLS = ENV.bool("EMAIL_USE_TLS", False, "Use STARTTLS with the SMTP server.")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = ENV.str(
    "DEFAULT_FROM_EMAIL", "egov <no-reply@egov.example>", "Sender of the platform's emails."
)
EMAIL_BACKEND = ENV.str(
    "EGOV_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend",
    "Django email backend. The demo writes emails to files in the data folder and shows them "
    "at /<lang>/demo/mailbox/, each browser the mail to its own addresses "
    "(egov.demo.mailbox.EmailBackend).",
)
EMAIL_FILE_PATH = DATA_DIR / "mail"

# --- background tasks -----------------------------------------------------------------------
# The queue lives in the main database, so a task is written in the same transaction as the
# change that asks for it: committed together or not at all (docs/adr/0005).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
WORKER_STALE_SECONDS = ENV.int(
    "EGOV_WORKER_STALE_SECONDS",
    60,
    "Seconds without a heartbeat after which a worker counts as dead and the task it was "
    "running is handed to another worker.",
)

# --- notifications --------------------------------------------------------------------------
SMS_PROVIDER = ENV.str(
    "EGOV_SMS_PROVIDER",
    "loopback",
    "SMS provider plugin. `loopback` writes each text message to a file in the data folder "
    "(shown in the demo mailbox) instead of sending it.",
)
SMS_LOOPBACK_DIR = DATA_DIR / "sms"

# --- uploads --------------------------------------------------------------------------------
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The first handler stops a body at EGOV_UPLOAD_MAX_BYTES while it streams (egov.core.uploads).
FILE_UPLOAD_HANDLERS = [
    "egov.core.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = ENV.int(
    "EGOV_UPLOAD_MAX_BYTES",
    60 * 1024 * 1024,
    "Largest request body accepted, in bytes (files are limited per service below this).",
)

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "egov.identity.api_auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "egov.core.problem.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "egov API",
    "DESCRIPTION": "The public catalogue, a person's own applications and an agency's cases. "
    "Errors are RFC 9457 problem details (application/problem+json).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- platform -------------------------------------------------------------------------------
PORTAL_BASE_URL = ENV.str(
    "EGOV_BASE_URL",
    "",
    "Public address of the portal, used in links sent by email.",
    demo="http://127.0.0.1:8000",
    required=True,
    example="https://egov.example",
)
WEB_BIND = ENV.str(
    "EGOV_WEB_BIND",
    "",
    "Address (host:port) `egov serve` listens on when not given `--bind`, e.g. 127.0.0.1:8000 "
    "behind nginx. Outside the demo one of the two is required.",
    demo="127.0.0.1:8000",
)
SERVER_WORKERS = ENV.int(
    "EGOV_WEB_WORKERS", 0, "Web server worker processes; 0 means one per core plus one."
)
SERVER_THREADS = ENV.int("EGOV_WEB_THREADS", 4, "Threads per web server worker.")

# --- exchange layer (docs/exchange.md) -------------------------------------------------------
PKI_DIR = Path(
    ENV.str(
        "EGOV_PKI_DIR",
        "",
        "Folder of the platform PKI: CA keys and certificates, issued certificates, the CRL. "
        "Empty means `pki` in the data folder.",
    )
    or DATA_DIR / "pki"
).resolve()
EXCHANGE_DIR = Path(
    ENV.str(
        "EGOV_EXCHANGE_DIR",
        "",
        "Folder of the gateways' configuration, cached global configuration and message logs. "
        "Empty means `exchange` in the data folder.",
    )
    or DATA_DIR / "exchange"
).resolve()
EXCHANGE_GATEWAY_URL = ENV.str(
    "EGOV_EXCHANGE_GATEWAY_URL",
    "",
    "Client side of the gateway the portal, the back offices and the workers call registries "
    "through. On `https://` each call presents the certificate of the subsystem it speaks "
    "for (from the client certificates folder); plain `http://` presents none.",
    demo="https://127.0.0.1:8090",
    required=True,
    example="https://127.0.0.1:8090",
)
EXCHANGE_CA_FILE = ENV.str(
    "EGOV_EXCHANGE_CA_FILE",
    "",
    "PEM file of the CA certificates the gateway's TLS certificate must chain to. Empty means "
    "the platform PKI's root and issuing certificates (in the PKI folder).",
)
EXCHANGE_CLIENT_TLS_DIR = Path(
    ENV.str(
        "EGOV_EXCHANGE_CLIENT_TLS_DIR",
        "",
        "Folder of the certificates (and keys) the portal, back offices and workers present, "
        "one per client subsystem, on the TLS client side of their gateway. Empty means "
        "`clients` in the exchange folder.",
    )
    or EXCHANGE_DIR / "clients"
).resolve()
EXCHANGE_PROVIDER_KEYS_DIR = Path(
    ENV.str(
        "EGOV_EXCHANGE_PROVIDER_KEYS_DIR",
        "",
        "Folder of the provider credentials: one secret per provider subsystem, presented by "
        "its gateway to its services (and checked by each register). Empty means "
        "`provider-keys` in the exchange folder.",
    )
    or EXCHANGE_DIR / "provider-keys"
).resolve()
EXCHANGE_CLIENT = ENV.str(
    "EGOV_EXCHANGE_CLIENT",
    "BY/GOV/NCES/portal",
    "The portal's own client subsystem in the exchange (X-Road-Client of its calls); its "
    "instance and member class also name the agencies' back offices "
    "(<instance>/<class>/<agency>/backoffice) and prefix X-Road-UserId.",
)
EXCHANGE_TIMEOUT = ENV.int(
    "EGOV_EXCHANGE_TIMEOUT",
    5,
    "Seconds the portal waits for a registry answer through the exchange before it tells "
    "the person the registry is unavailable.",
)
#: The provider subsystem each base register serves as; each register accepts only the key
#: of its own subsystem (``provider_key_path(EXCHANGE_PROVIDER_KEYS_DIR, subsystem)``).
REGISTRY_PROVIDERS = {
    "population": ENV.str(
        "EGOV_REGISTRY_POPULATION_SUBSYSTEM",
        "BY/GOV/MVD/population",
        "Provider subsystem of the population register: its services accept only this "
        "subsystem's key from the provider-keys folder. Empty: the country has no such "
        "register (nothing is asked of it or warned about).",
    ),
    "legal_entities": ENV.str(
        "EGOV_REGISTRY_LEGAL_ENTITIES_SUBSYSTEM",
        "BY/GOV/MINJUST/legal-entities",
        "Provider subsystem of the legal entities register: its services accept only this "
        "subsystem's key from the provider-keys folder. Empty: the country has no such "
        "register (nothing is asked of it or warned about).",
    ),
    "addresses": ENV.str(
        "EGOV_REGISTRY_ADDRESSES_SUBSYSTEM",
        "BY/GOV/NKA/addresses",
        "Provider subsystem of the address register: its services accept only this "
        "subsystem's key from the provider-keys folder. Empty: the country has no such "
        "register (nothing is asked of it or warned about).",
    ),
}
CENTRAL_URL = ENV.str(
    "EGOV_CENTRAL_URL",
    "",
    "Base address of the central registry (https://egov.example.by/) that `egov exchange "
    "setup` and `egov exchange gateway write-config` write into each gateway's file; "
    "`/exchange/globalconf` is appended when the path is empty. No default outside the demo.",
)
CENTRAL_CA_FILE = ENV.str(
    "EGOV_CENTRAL_CA_FILE",
    "",
    "PEM file of the CA certificates a gateway trusts for the central registry's TLS "
    "certificate (written into each gateway's file). Empty means the system's trust store.",
)
GLOBALCONF_VALIDITY_SECONDS = ENV.int(
    "EGOV_GLOBALCONF_VALIDITY",
    600,
    "Seconds a published global configuration stays valid; gateways keep working from their "
    "cached copy while the central registry is down, until then, and then refuse.",
)

# --- logs ---------------------------------------------------------------------------------
LOG_FORMAT = ENV.str(
    "EGOV_LOG_FORMAT",
    "",
    "`json` (one JSON object per line, for a log collector) or `console` (readable lines). "
    "Empty means `console` in the demo and with DEBUG, `json` otherwise.",
) or ("console" if DEBUG or DEMO_MODE else "json")
ACCESS_LOG = ENV.bool(
    "EGOV_ACCESS_LOG",
    False,
    "Write one access-log line per request (web servers and gateways), without the client's "
    "address or query string.",
)
SERVER_LOG_LEVEL = ENV.str(
    "EGOV_SERVER_LOG_LEVEL",
    "WARNING",
    "Log level of the servers' own loggers (gunicorn, aiohttp).",
)
configure_structlog()
LOGGING = logging_config(
    json=LOG_FORMAT != "console",
    level=ENV.str("EGOV_LOG_LEVEL", "INFO", "Log level of egov's own logs."),
    server_level=SERVER_LOG_LEVEL,
    access_log=ACCESS_LOG,
)
# One line per request, when it ends, with a request id; no address, user agent or path
# typed by the client (egov.core.request_logging).
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = 10  # DEBUG: the finished line says it all
CSRF_FAILURE_VIEW = "egov.core.views.csrf_failure"

# --- backups --------------------------------------------------------------------------------
BACKUP_PASSPHRASE = ENV.secret(
    "EGOV_BACKUP_PASSPHRASE",
    "Passphrase that encrypts the private keys and credentials inside a backup (`egov backup`) "
    "and decrypts them on `egov restore`. Keep it apart from the backups.",
)

# --- trust services: PKI (docs/trust.md) ----------------------------------------------------
PKI_KEY_PASSPHRASE = ENV.secret(
    "EGOV_PKI_KEY_PASSPHRASE",
    "Passphrase the PKI's private keys (CAs, issued certificates, gateway and client keys) "
    "are encrypted with at rest. Required in production; the demo generates one and keeps "
    "it in the data folder. `egov pki encrypt-keys` encrypts keys written before it was set.",
    required=True,
)
if not PKI_KEY_PASSPHRASE and DEMO_MODE:
    from egov.core.secrets import load_or_create_secret_key

    PKI_KEY_PASSPHRASE = load_or_create_secret_key(DATA_DIR, "pki_key_passphrase")
#: The instance (country) the PKI serves: the exchange instance of EGOV_EXCHANGE_CLIENT.
PKI_INSTANCE = EXCHANGE_CLIENT.split("/", 1)[0]
PKI_ROOT_NAME = ENV.str(
    "EGOV_PKI_ROOT_NAME",
    "{instance} egov Root CA",
    "Common name of the root CA made by `egov pki init`; `{instance}` is the exchange "
    "instance (the first part of EGOV_EXCHANGE_CLIENT).",
)
PKI_ISSUING_NAME = ENV.str(
    "EGOV_PKI_ISSUING_NAME",
    "{instance} egov Issuing CA",
    "Common name of the issuing CA made by `egov pki init`; `{instance}` as for the root.",
)
PKI_ORGANIZATION = ENV.str(
    "EGOV_PKI_ORGANIZATION", "egov", "Organisation name in the CA certificates' subjects."
)
PKI_COUNTRY = ENV.str(
    "EGOV_PKI_COUNTRY",
    "",
    "Two-letter country code of the certificates' subjects and of persons' serialNumber "
    "(PNO<country>-<personal number>). Empty means the instance when it is two letters.",
) or (PKI_INSTANCE.upper() if len(PKI_INSTANCE) == 2 and PKI_INSTANCE.isalpha() else "")
PKI_PKCS11_MODULE = ENV.str(
    "EGOV_PKI_PKCS11_MODULE",
    "",
    "Path of the PKCS#11 module of the token signing keys live in, e.g. "
    "/usr/lib/softhsm/libsofthsm2.so. Empty: every key is a file.",
)
PKI_PKCS11_TOKEN = ENV.str(
    "EGOV_PKI_PKCS11_TOKEN", "", "Label of the PKCS#11 token holding the signing keys."
)
PKI_PKCS11_PIN = ENV.secret("EGOV_PKI_PKCS11_PIN", "User PIN of the PKCS#11 token.")
PKI_PKCS11_KEYS = ENV.list(
    "EGOV_PKI_PKCS11_KEYS",
    [],
    "Names of the certificates (e.g. `tsa,agency-mvd-documents`) whose keys are in the "
    "PKCS#11 token instead of files; `egov pki issue --pkcs11` makes them there.",
)
# (end of PKI settings)

# --- trust services: timestamp authority ---------------------------------------------------
TSA_POLICY_OID = ENV.str(
    "EGOV_TSA_POLICY_OID",
    "1.3.6.1.4.1.32473.11.1",
    "Policy OID the timestamp authority puts in every token (TSTInfo policy). The default is "
    "under IANA's example enterprise number (RFC 5612): replace it with an OID of your "
    "organisation's arc that names its published timestamp policy.",
)
TSA_ACCURACY_SECONDS = ENV.int(
    "EGOV_TSA_ACCURACY_SECONDS",
    1,
    "Accuracy the timestamp authority states for its tokens' time, in seconds (the clock is "
    "assumed kept by NTP within it).",
)
GATEWAY_TSA_URL = ENV.str(
    "EGOV_GATEWAY_TSA_URL",
    "",
    "The TSA `egov exchange setup` writes into each gateway.json (`tsa_url`): the gateways "
    "timestamp their message logs' seals there. Empty means `/trust/tsa` at the central "
    "registry's address (the portal).",
)
GATEWAY_TIMESTAMP_INTERVAL = ENV.int(
    "EGOV_GATEWAY_TIMESTAMP_INTERVAL",
    10,
    "Seconds between a gateway's timestamp queries for its message log's seals "
    "(`timestamp_interval` in gateway.json).",
)
GATEWAY_TIMESTAMP_GRACE = ENV.int(
    "EGOV_GATEWAY_TIMESTAMP_GRACE",
    600,
    "Seconds a gateway keeps forwarding while its seals get no timestamp (the TSA is down); "
    "past them it refuses to forward until the TSA answers again (`timestamp_grace`).",
)
# (end of TSA settings)

# --- trust services: e-ID signer and high-level login ---------------------------------------
SIGNER_URL = ENV.str(
    "EGOV_SIGNER_URL",
    "http://127.0.0.1:8300",
    "Where the portal's pages find `egov signer` on the person's own computer (the e-ID "
    "login and signatures); the Content-Security-Policy lets pages connect to it.",
).rstrip("/")
EID_CHALLENGE_SECONDS = ENV.int(
    "EGOV_EID_CHALLENGE_SECONDS",
    120,
    "Seconds an e-ID login challenge stays valid; each is used once.",
)
EID_DIR = Path(
    ENV.str(
        "EGOV_EID_DIR",
        "",
        "Folder of the demo people's e-ID files (<personal number>.p12), which `egov demo` "
        "hands to the signer. Empty means `eid` in the data folder.",
    )
    or DATA_DIR / "eid"
).resolve()
if SIGNER_URL:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"].append(SIGNER_URL)
# (end of signer settings)

# --- trust services: signed applications -----------------------------------------------------
SIGNATURE_MAX_AGE_SECONDS = ENV.int(
    "EGOV_SIGNATURE_MAX_AGE_SECONDS",
    900,
    "Seconds a signed application's signature stays acceptable for submission after its "
    "signing time: an older one is refused and the person signs again (the draft is kept).",
)
SIGNATURE_CLOCK_SKEW_SECONDS = ENV.int(
    "EGOV_SIGNATURE_CLOCK_SKEW_SECONDS",
    120,
    "Seconds a signature's signing time may lie ahead of the server's clock (the person's "
    "computer keeps its own time).",
)
# (end of signed applications settings)

# --- trust services: signed documents and verification ----------------------------------------
DOCUMENTS_FONT_DIR = Path(
    ENV.str(
        "EGOV_DOCUMENTS_FONT_DIR",
        "/usr/share/fonts/truetype/dejavu",
        "Folder of the DejaVu Sans fonts (Latin and Cyrillic) embedded in issued documents "
        "(Debian's fonts-dejavu-core).",
    )
)
DOCUMENTS_VERIFY_MAX_BYTES = ENV.int(
    "EGOV_DOCUMENTS_VERIFY_MAX_BYTES",
    10 * 1024 * 1024,
    "Largest PDF, in bytes, that the public verification page (/verify) accepts for checking.",
)
# (end of documents settings)

# --- audit ledger -------------------------------------------------------------------------------
AUDIT_TREE_HEAD_SECONDS = ENV.int(
    "EGOV_AUDIT_TREE_HEAD_SECONDS",
    300,
    "Seconds between signed tree heads of the audit ledger (signed by the worker when the "
    "ledger grew; `egov audit sign-head` signs one at once).",
    demo=60,
)
AUDIT_SIGNER = ENV.str(
    "EGOV_AUDIT_SIGNER",
    "ledger",
    "Name of the key that signs the audit ledger's tree heads (the `ledger` certificate of "
    "the platform's PKI, issued by `egov trust setup`).",
)
AUDIT_SEQUENCE_ON_COMMIT = ENV.bool(
    "EGOV_AUDIT_SEQUENCE_ON_COMMIT",
    True,
    "Put each audit entry into the ledger's tree right after its transaction commits; off, "
    "only the worker's sweeps do it (every 30 seconds), which takes load off busy servers.",
)
AUDIT_SEQUENCE_SPACING_MS = ENV.int(
    "EGOV_AUDIT_SEQUENCE_SPACING_MS",
    50,
    "Least time, in milliseconds, between two sequencings a web or worker process starts "
    "after its commits: under load one takes the entries of many; what is left waits for the "
    "next commit or the worker's sweep (0: after every commit).",
)
# (end of audit settings)

# Last: every required value missing, or unusable, stops the process here, in one message.
ENV.check()
