"""Schemathesis against the served OpenAPI document (issue 11, "prove it in CI").

Every operation gets a bounded, deterministic set of schema-valid and schema-invalid cases,
sent with an org admin's token to an app holding a proposed match. Nothing may answer with
a server error or a response (status, content type, headers, body) that breaks the
document; schema-invalid input gets a 4xx, a 422 names its fields, and it changes nothing;
schema-valid input is accepted unless it names a category or organization that does not
exist (the document cannot list those: they are data). `pytest -s -k generated_input
tests/security/test_api_fuzz.py` prints the case counts.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from coalition.extensions import db
from coalition.models.events import OutboxEvent
from coalition.models.listings import Listing
from coalition.models.matches import Match
from tests.listings_support import token_for
from tests.matches_support import make_pair

pytestmark = pytest.mark.slow

EXAMPLES = 15  # per operation and mode: about 700 cases, well under a minute
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# refusals of schema-valid input that name data the document cannot enumerate
# (and rules between fields, which JSON Schema cannot say either)
REFERENCES = {
    "unknown category",
    "unknown organization",
    "this category is no longer in use",
    "must not be before from",
    "must be in 2000 or later",
    "the period may span at most ten years",
    "only applies to requests",
    "only applies to offers",
    "a lot expiry only applies to offers",
    "only applies to staffing listings",
    "only applies to supply listings",
    "give at least one availability window",
    "must not be in the past",
    "cannot change; withdraw and post a new listing",
}
BETWEEN_FIELDS = re.compile(
    r"window \d+: the end must be after the start|[a-z0-9-]+ is a \w+ category, not \w+"
)


def _field_messages(response: Any) -> dict[str, Any]:
    """The `errors` of a JSON error body, {} if none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors if isinstance(errors, dict) else {}


def _messages(errors: Any) -> list[str]:
    """Every message string in a (nested) errors mapping."""
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in _messages(value)]
    if isinstance(errors, list):
        return [m for value in errors for m in _messages(value)]
    return []


@schemathesis.check
def valid_input_is_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, except a 422 that only names a missing category or org."""
    if response.status_code == 422:
        found = _messages(_field_messages(response))
        if found and all(m in REFERENCES or BETWEEN_FIELDS.fullmatch(m) for m in found):
            return None
    return positive_data_acceptance(ctx, response, case)


@schemathesis.check
def unprocessable_names_its_fields(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 422 says which fields and why."""
    if response.status_code == 422:
        assert _messages(_field_messages(response)), f"422 without field messages: {response.text}"
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    valid_input_is_accepted,
    unprocessable_names_its_fields,
]


def _state() -> tuple[Any, ...]:
    """What a refused request must leave as it was."""
    db.session.expire_all()
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Listing)),
        db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Listing.version), 0))),
        db.session.scalar(sa.select(sa.func.count()).select_from(Match)),
        tuple(db.session.scalars(sa.select(Match.state).order_by(Match.id))),
        db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)),
    )


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    headers: dict[str, str],
    tally: Counter,
    path: dict[str, Any] | None = None,
) -> None:
    """Run one operation's cases of one mode (on given path values, if any); raises on the
    first failing case."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path))
    def run(case: Any) -> None:
        tally["cases"] += 1
        before = _state() if mode == GenerationMode.NEGATIVE else None
        response = case.call(headers=headers)
        tally[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)
        if before is not None and response.status_code >= 400:
            assert _state() == before, "refused input changed something"

    run()


def _values_for(path: str, real: dict[str, Any] | None) -> dict[str, Any] | None:
    """The existing rows' values of the path's parameters."""
    if real is None:
        return None
    values = {name: value for name, value in real.items() if "{" + name + "}" in path}
    if "{listing_id}" in path:
        values["listing_id"] = real["offers" if path.startswith("/api/v1/offers") else "requests"]
    return values


def test_every_api_operation_survives_generated_input(app, capsys):
    pair = make_pair()
    headers = {"Authorization": f"Bearer {token_for(pair.receiver)}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tally: Counter[Any] = Counter()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # random ids mostly meet a 404: each operation also runs on rows that exist
    real = {
        "offers": pair.offer.id,  # another organization's: read, not changed
        "requests": pair.request.id,  # the caller's own
        "match_id": pair.match.id,
        "slug": pair.receiver.slug,
    }
    runs = [(op, mode, None) for op in operations for mode in MODES]
    runs += [(op, GenerationMode.POSITIVE, real) for op in operations if "{" in op.path]
    for operation, mode, path in runs:
        try:
            _fuzz(operation, mode, headers, tally, _values_for(operation.path, path))
        except Unsatisfiable:  # nothing of the operation can be made schema-invalid
            continue
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect them all
            label = f"{operation.method.upper()} {operation.path} ({mode.value})"
            failures.append(f"{label}: {str(exc)[:1500]}")
    cases = tally.pop("cases", 0)
    with capsys.disabled():
        print(
            f"\nschemathesis: {cases} cases, {len(operations)} operations, {len(runs)} runs "
            "(valid, invalid, valid on existing rows), "
            f"statuses {dict(sorted(tally.items()))}, {len(failures)} failures"
        )
    assert failures == [], "\n---\n".join(failures)
