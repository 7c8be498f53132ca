"""The pullthrough pytest plugin (entry point `pytest11`): options, the `rule` marker, fixtures, results.

Scenario modules use it like this:

    @pytest.mark.rule("STALE-5XX")
    def test_stale_5xx(case): ...

`pytest --pyargs scenarios --pt-target distribution` runs the suites against a target; `pullthrough run`
does the same with live progress and reports.
"""

from __future__ import annotations

import importlib
import json
import signal
from collections.abc import Generator, Iterator
from types import FrameType
from typing import Any

import pytest

from harness.case import Case
from harness.rules import RULES
from harness.spec import RunSpec, SpecError, add_pytest_options
from harness.targets import TARGETS, TargetError, target_class
from harness.verdict import CheckMissed, Outcome, decide
from harness.world import World
from reports.model import CaseResult, Verdict

RESULT_PROPERTY = "pullthrough_case"
TARGET_PROPERTY = "pullthrough_target"
_CASE_KEY = pytest.StashKey[Case]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_pytest_options(parser.getgroup("pullthrough", "pullthrough: pull-through cache scenarios"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(id): the catalogue rule this scenario checks")
    config.addinivalue_line(
        "markers", "whole_upstream: the scenario refuses the whole upstream port; it runs alone on a shared upstream"
    )
    if hasattr(config, "workerinput"):
        # An xdist worker stopped with SIGTERM still tears its world down (the proxy it started included).
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("rule")
        if marker is not None:
            rule_id = marker.args[0]
            item.extra_keyword_matches.update({rule_id, rule_id.split("-")[0], case_id(item)})
    target = config.getoption("pt_target", None)
    if target in TARGETS and target_class(target).whole_upstream_last:
        items.sort(key=lambda item: item.get_closest_marker("whole_upstream") is not None)  # stable: order kept


def case_id(item: pytest.Item) -> str:
    marker = item.get_closest_marker("rule")
    callspec = getattr(item, "callspec", None)
    rule_id = marker.args[0] if marker else item.name
    return f"{rule_id}[{callspec.id}]" if callspec is not None else rule_id


def run_spec(config: pytest.Config) -> RunSpec:
    """The run the plugin's options describe (the same in every xdist worker)."""
    try:
        return RunSpec.from_values(lambda name: config.getoption("pt_" + name, None))
    except SpecError as error:
        raise pytest.UsageError(f"pullthrough: {error}") from None


@pytest.fixture(scope="session")
def pt_world(request: pytest.FixtureRequest) -> Iterator[World]:
    try:
        world = World(run_spec(request.config))
        world.start()
    except TargetError as error:
        pytest.exit(f"pullthrough: {error}", returncode=pytest.ExitCode.USAGE_ERROR)
    try:
        yield world
    finally:
        world.stop()


@pytest.fixture
def case(request: pytest.FixtureRequest, pt_world: World) -> Iterator[Case]:
    marker = request.node.get_closest_marker("rule")
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses the case fixture without @pytest.mark.rule(...)")
    callspec = getattr(request.node, "callspec", None)
    params = {k: str(v) for k, v in callspec.params.items()} if callspec is not None else {}
    exclusive = request.node.get_closest_marker("whole_upstream") is not None
    with pt_world.hold(exclusive=exclusive):
        pt_world.between_cases()
        current = Case(pt_world, RULES[marker.args[0]], case_id(request.node), params, exclusive=exclusive)
        request.node.stash[_CASE_KEY] = current
        _allure_labels(current)
        try:
            yield current
        finally:
            current.close()
            pt_world.between_cases(disturbed=current.upstream.disturbed)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    current = item.stash.get(_CASE_KEY, None)
    if current is not None and (report.when == "call" or (report.when == "setup" and not report.passed)):
        outcome = _outcome(current, call)
        result = current.result(outcome, call.duration)
        _show(report, outcome)
        report.user_properties.append((RESULT_PROPERTY, json.dumps(result.to_dict())))
        report.user_properties.append((TARGET_PROPERTY, json.dumps(current.world.describe_target())))
        _allure_attach(result)
    return report


def _outcome(current: Case, call: pytest.CallInfo[None]) -> Outcome:
    excinfo = call.excinfo
    skipped = error = None
    if excinfo is not None and excinfo.errisinstance(pytest.skip.Exception):
        skipped = current.skipped or _short(excinfo)
    elif excinfo is not None and not excinfo.errisinstance(CheckMissed):
        error = _short(excinfo)
    return decide(current.checks, gating=current.gating, skipped=skipped, error=error)


def _show(report: pytest.TestReport, outcome: Outcome) -> None:
    """pytest's outcome follows the verdict: deviations show as xfail, a case that checked nothing fails."""
    verdict = outcome.verdict
    if verdict is Verdict.PASS:
        report.outcome, report.longrepr = "passed", None
    elif verdict is Verdict.DEVIATION:
        report.outcome, report.longrepr = "skipped", None
        report.wasxfail = outcome.message
    elif verdict is Verdict.FAIL or (verdict is Verdict.ERROR and report.passed):
        report.outcome, report.longrepr = "failed", outcome.message
    elif verdict is Verdict.SKIP and not report.skipped:
        report.outcome, report.longrepr = "skipped", (str(report.location[0]), report.location[1] or 0, outcome.message)


def read_result(report: pytest.TestReport) -> CaseResult | None:
    """The case result a scenario's report carries (also across pytest-xdist workers)."""
    for name, value in report.user_properties:
        if name == RESULT_PROPERTY and isinstance(value, str):
            return CaseResult.from_dict(json.loads(value))
    return None


def read_target(report: pytest.TestReport) -> dict[str, Any] | None:
    """The target's name, version, URL and options, as the worker that ran the case saw them."""
    for name, value in report.user_properties:
        if name == TARGET_PROPERTY and isinstance(value, str):
            described: dict[str, Any] = json.loads(value)
            return described
    return None


def _short(excinfo: pytest.ExceptionInfo[BaseException] | None) -> str | None:
    if excinfo is None:
        return None
    text = str(excinfo.value).strip().splitlines()
    return f"{excinfo.typename}: {text[0] if text else ''}"[:500]


def _allure_labels(current: Case) -> None:
    allure: Any = importlib.import_module("allure")
    severity = {"documented": "critical", "spec": "critical", "recommended": "normal"}[current.rule.level]
    allure.dynamic.epic(current.rule.family)
    allure.dynamic.feature(current.rule.id)
    allure.dynamic.story(current.id)
    allure.dynamic.severity(severity)
    allure.dynamic.description(f"{current.rule.situation}: {current.rule.expected}")


def _allure_attach(result: CaseResult) -> None:
    allure: Any = importlib.import_module("allure")
    from allure_commons import plugin_manager

    if not plugin_manager.list_name_plugin():
        return
    body = result.transcripts.to_dict()
    allure.attach(json.dumps(body["client"], indent=1), "client <-> proxy", allure.attachment_type.JSON)
    allure.attach(json.dumps(body["upstream"], indent=1), "proxy <-> upstream", allure.attachment_type.JSON)
