"""The OpenAPI document describes every /api/ endpoint, and the API keeps to it.

schemathesis generates requests from the document, valid and invalid, and
checks each response: its status is documented, its body matches the
schema, invalid input is rejected with 4xx, and no response is a 5xx.
"""

from __future__ import annotations

import re

import hypothesis
import pytest
import schemathesis

from crossword_hints import settings
from crossword_hints.catalogue import openapi
from search_samples import add_search_rows


@pytest.fixture
def app_with_rows(app):
    add_search_rows(app)
    return app


def test_document_lists_every_api_route(app, client):
    document = client.get("/api/openapi.json").get_json()

    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/healthz":
            # /api/cue-words/<int(min=1, max=...):row_id> -> /api/cue-words/{row_id}
            routes.add(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule))
    assert routes == set(document["paths"])


def test_document_offers_get_only(client):
    document = client.get("/api/openapi.json").get_json()

    methods = {method for path in document["paths"].values() for method in path}
    assert methods == {"get"}


def test_document_uses_page_size_settings(client, app):
    parameters = client.get("/api/openapi.json").get_json()["components"]["parameters"]

    assert parameters["per_page"]["schema"]["maximum"] == app.config["MAX_PER_PAGE"]
    assert parameters["per_page"]["schema"]["default"] == app.config["PER_PAGE"]


def test_served_document_matches_defaults(client):
    served = client.get("/api/openapi.json").get_json()

    assert served == openapi.document(settings.PER_PAGE, settings.MAX_PER_PAGE)


# The document is built from the default settings rather than fetched from
# the app, because schemathesis' fixture loader (from_fixture, 4.32) fails
# under pytest 9: it sets Function._nodeid, which pytest 9 no longer has.
schema = schemathesis.openapi.from_dict(
    openapi.document(settings.PER_PAGE, settings.MAX_PER_PAGE)
)


@schema.parametrize()
@hypothesis.settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
    ],
)
def test_api_keeps_to_document(case, app_with_rows):
    case.call_and_validate(app=app_with_rows)
