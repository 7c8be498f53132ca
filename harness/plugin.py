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
from dataclasses import asdict, replace
from types import FrameType
from typing import Any

import pytest

from harness.case import Case
from harness.rules import RULES
from harness.targets import TargetError, TargetOptions
from harness.world import World, WorldConfig
from reports.model import CaseResult, Verdict, _case as _case_from_dict

RESULT_PROPERTY = "pullthrough_case"
TARGET_PROPERTY = "pullthrough_target"
_CASE_KEY = pytest.StashKey[Case]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pullthrough", "pullthrough: pull-through cache scenarios")
    group.addoption("--pt-target", default="reference", help="reference|distribution|nginx|external")
    group.addoption("--pt-profile", default="documented", help="documented|harbor-2.14-docs")
    group.addoption("--pt-strict", action="store_true", help="recommended rules gate too")
    group.addoption("--pt-defect", action="append", default=[], help="reference proxy defect (repeatable)")
    group.addoption("--pt-proxy-url", help="external target: the proxy's URL")
    group.addoption("--pt-path-template", default="{repository}", help="external target: repository path")
    group.addoption("--pt-upstream-url", help="an external fake upstream's registry URL")
    group.addoption("--pt-upstream-control-url", help="an external fake upstream's control URL")
    group.addoption("--pt-control-token", help="the external fake upstream's control token")
    group.addoption("--pt-upstream-timeout", type=float, help="the target's upstream timeout in seconds")
    group.addoption("--pt-in-process", action="store_true", help="reference target: run it in a thread")
    group.addoption("--pt-seed", type=int, default=0, help="seed for names and content")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(id): the RULES.md rule this scenario checks")
    if hasattr(config, "workerinput"):
        # An xdist worker stopped with SIGTERM still tears its world down (the proxy it started included).
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("rule")
        if marker is not None:
            rule_id = marker.args[0]
            item.extra_keyword_matches.update({rule_id, rule_id.split("-")[0], case_id(item)})


def case_id(item: pytest.Item) -> str:
    marker = item.get_closest_marker("rule")
    callspec = getattr(item, "callspec", None)
    rule_id = marker.args[0] if marker else item.name
    return f"{rule_id}[{callspec.id}]" if callspec is not None else rule_id


def world_config(config: pytest.Config) -> WorldConfig:
    option = config.getoption
    return WorldConfig(
        target=option("pt_target"),
        target_options=TargetOptions(
            defects=tuple(option("pt_defect")),
            proxy_url=option("pt_proxy_url"),
            path_template=option("pt_path_template"),
            upstream_timeout=option("pt_upstream_timeout"),
            subprocess=not option("pt_in_process"),
        ),
        profile=option("pt_profile"),
        strict=option("pt_strict"),
        upstream_url=option("pt_upstream_url"),
        upstream_control_url=option("pt_upstream_control_url"),
        control_token=option("pt_control_token"),
        seed=option("pt_seed"),
    )


@pytest.fixture(scope="session")
def pt_world(request: pytest.FixtureRequest) -> Iterator[World]:
    try:
        world = World(world_config(request.config))
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
    pt_world.between_cases()
    current = Case(pt_world, RULES[marker.args[0]], case_id(request.node), params)
    request.node.stash[_CASE_KEY] = current
    _allure_labels(current)
    try:
        yield current
    finally:
        current.close()
        pt_world.between_cases()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    current = item.stash.get(_CASE_KEY, None)
    if current is not None and (report.when == "call" or (report.when == "setup" and not report.passed)):
        error = None
        if report.failed and current.verdict not in (Verdict.FAIL,):
            error = _short(call.excinfo)
        result = current.result(call.duration if call else 0.0, error)
        if report.skipped and current.verdict is None:
            result = _with_verdict(result, Verdict.SKIP, _short(call.excinfo))
        report.user_properties.append((RESULT_PROPERTY, json.dumps(result_dict(result))))
        report.user_properties.append((TARGET_PROPERTY, json.dumps(current.world.describe_target())))
        _allure_attach(result)
    return report


def result_dict(result: CaseResult) -> dict[str, Any]:
    return asdict(result)


def read_result(report: pytest.TestReport) -> CaseResult | None:
    """The case result a scenario's report carries (also across pytest-xdist workers)."""
    for name, value in report.user_properties:
        if name == RESULT_PROPERTY and isinstance(value, str):
            return _case_from_dict(json.loads(value))
    return None


def read_target(report: pytest.TestReport) -> dict[str, str | None] | None:
    """The target's name, version and URL, as the worker that ran the case saw them."""
    for name, value in report.user_properties:
        if name == TARGET_PROPERTY and isinstance(value, str):
            described: dict[str, str | None] = json.loads(value)
            return described
    return None


def _with_verdict(result: CaseResult, verdict: Verdict, message: str | None) -> CaseResult:
    return replace(result, verdict=verdict, message=message or result.message)


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
    body = result_dict(result)["transcripts"]
    allure.attach(json.dumps(body["client"], indent=1), "client <-> proxy", allure.attachment_type.JSON)
    allure.attach(json.dumps(body["upstream"], indent=1), "proxy <-> upstream", allure.attachment_type.JSON)
