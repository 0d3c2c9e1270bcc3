"""A bare Django project with one "hello" view: the reference the benchmarks compare with."""

from __future__ import annotations

import argparse

import django
from django.conf import settings
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-hello-" + "x" * 40,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)
django.setup()


def hello(request):  # type: ignore[no-untyped-def]
    return HttpResponse("hello", content_type="text/plain")


urlpatterns = [path("hello", hello)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

if __name__ == "__main__":
    from egov.core.server import gunicorn_options, serve

    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", required=True)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--threads", type=int, default=4)
    arguments = parser.parse_args()
    serve(
        application,
        gunicorn_options(bind=arguments.bind, workers=arguments.workers, threads=arguments.threads),
    )
