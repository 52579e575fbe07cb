"""Links that leave the app (in mail, on the terminal): built from BASE_URL, with or
without a request, so the worker and the CLI write the same links a page would."""

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    adapter = current_app.url_map.bind("modell.invalid", url_scheme="https")
    return current_app.config["BASE_URL"].rstrip("/") + adapter.build(endpoint, values)
