"""egov's WSGI application served by gunicorn with the production options (`egov serve`), with
a record of every request that reaches it and one probe path that answers with the request's
headers as the application sees them: what the deployment tests need to see behind nginx.

Run as ``python -m tests.deploy.probe_app --bind 127.0.0.1:PORT``; the record goes to the file
named by ``EGOV_PROBE_REQUEST_LOG``."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

HEADERS_PATH = "/__probe/headers"


def probed(application: Callable[..., Iterable[bytes]], record: str) -> Callable[..., Any]:
    def probe(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with open(record, "a", encoding="utf-8") as handle:
            handle.write(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}\n")
        if environ["PATH_INFO"] == HEADERS_PATH:
            seen = {name: value for name, value in environ.items() if name.startswith("HTTP_")}
            seen["wsgi.url_scheme"] = environ["wsgi.url_scheme"]
            body = json.dumps(seen).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return application(environ, start_response)

    return probe


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", required=True)
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")
    from egov.core.server import gunicorn_options, serve
    from egov.wsgi import application

    serve(
        probed(application, os.environ["EGOV_PROBE_REQUEST_LOG"]),
        gunicorn_options(bind=arguments.bind, workers=1, threads=4),
    )


if __name__ == "__main__":
    main()
