"""The control API fuzzed from its own OpenAPI document (schemathesis): no 500, answers as documented.

Bounded for CI: PULLTHROUGH_FUZZ_EXAMPLES (default 10) examples per operation; docs/reliability.md has
the long run's command and figures.
"""

from __future__ import annotations

import os
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from fake_upstream import FakeUpstream

EXAMPLES = int(os.environ.get("PULLTHROUGH_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_control_api_as_documented() -> None:
    statuses: Counter[int] = Counter()
    with FakeUpstream() as upstream:
        upstream.add_image("team/app", "v1", seed=1)
        schema = schemathesis.openapi.from_url(f"{upstream.control_url}/_control/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == 23

        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def check(case: schemathesis.Case) -> None:
                _small_images(case)
                response = case.call(timeout=10)
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS)
                if case.path == "/_control/outage":  # an outage of the registry port is not for the fuzzer
                    upstream.set_outage("none")

            check()
    print(f"control API fuzz: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
    assert statuses and not any(status >= 500 for status in statuses)


def _small_images(case: schemathesis.Case) -> None:
    """A synthetic layer's digest costs about 1 s per GiB (up to 64 GiB each, as documented): a fuzzer
    asking for many is load, not robustness. Sizes stay as drawn when they are not a list of numbers."""
    body = case.body
    if case.path == "/_control/images" and isinstance(body, dict) and isinstance(body.get("layers"), list):
        body["layers"] = [
            size % (1 << 20) if isinstance(size, int) and size > 0 else size for size in body["layers"][:8]
        ]
    if case.path == "/_control/images" and isinstance(body, dict) and isinstance(body.get("platforms"), list):
        body["platforms"] = body["platforms"][:4]
