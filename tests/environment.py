"""Loaded as a pytest plugin (`-p tests.environment`) so it runs before pytest-django reads
the settings: the tests configure egov through the environment, like any deployment."""

import os
import tempfile

os.environ.setdefault("EGOV_DATA_DIR", tempfile.mkdtemp(prefix="egov-test-"))
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("EGOV_INSECURE_HTTP", "true")
os.environ.setdefault("EGOV_STATIC_FROM_SOURCE", "true")
os.environ.setdefault(
    "EGOV_STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("EGOV_PKI_KEY_PASSPHRASE", "test-pki-key-passphrase")
# The tests run as a production process (EGOV_DEMO unset), which needs these addresses; the
# values are the demo's, which the tests' links and stubs expect.
os.environ.setdefault("EGOV_BASE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("EGOV_EXCHANGE_GATEWAY_URL", "https://127.0.0.1:8090")
