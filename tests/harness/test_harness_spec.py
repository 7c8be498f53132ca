"""A run described once: the command line and the pytest options are both made from OPTIONS, and agree."""

from __future__ import annotations

import argparse

import pytest

from harness.spec import RunSpec, SpecError, add_pytest_options, add_run_arguments


def _run(*argv: str) -> RunSpec:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    return RunSpec.from_args(parser.parse_args(list(argv)))


class _Group:
    """pytest's option group: `addoption` takes argparse's arguments."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.addoption = parser.add_argument


def _through_pytest(spec: RunSpec) -> RunSpec:
    """What a pytest worker rebuilds from the options the runner hands over."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-n")
    parser.add_argument("-k")
    add_pytest_options(_Group(parser))
    options = parser.parse_args(spec.pytest_args())
    workers = int(options.n) if options.n else None
    return RunSpec.from_values(
        lambda name: {"workers": workers, "keyword": options.k}.get(name, getattr(options, "pt_" + name, None))
    )


def test_defaults() -> None:
    spec = _run()
    assert (spec.target, spec.profile, spec.workers, spec.settle) == ("reference", "documented", 1, None)
    assert spec.defects == spec.variants == ()
    assert spec.pytest_args() == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--target", "reference", "--defect", "delete-on-404", "--defect", "no-coalesce", "--strict"],
        ["--variant", "terse-errors", "--settle", "quiet:0.5", "--seed", "7", "-n", "3", "-k", "FRESH"],
        [
            *("--target", "external", "--proxy-url", "http://127.0.0.1:5000", "--path-template", "hub/{repository}"),
            *("--upstream-url", "http://127.0.0.1:1", "--upstream-control-url", "http://127.0.0.1:2"),
        ],
        [
            *("--upstream-url", "http://127.0.0.1:1", "--upstream-control-url", "http://127.0.0.1:2"),
            *("--upstream-timeout", "2.5"),
        ],
    ],
)
def test_the_pytest_options_describe_the_same_run(argv: list[str]) -> None:
    spec = _run(*argv)
    assert _through_pytest(spec) == spec


def test_auto_workers_is_the_cores_at_most_four() -> None:
    assert 1 <= _run("-n", "auto").workers <= 4


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["-n", "0"], "-n takes a positive number or auto"),
        (["-n", "two"], "-n takes a positive number or auto"),
        (["-n", "²"], "-n takes a positive number or auto"),
        (["--profile", "wishful"], "unknown profile 'wishful'"),
        (["--settle", "later"], "--settle 'later'"),
        (["--upstream-timeout", "0"], "--upstream-timeout takes a positive number"),
        (["--upstream-url", "http://127.0.0.1:1"], "needs --upstream-control-url"),
        (["--target", "nginx", "--defect", "delete-on-404"], "apply to --target reference only"),
        (["--defect", "no-such-defect"], "no-such-defect"),
    ],
)
def test_a_run_that_cannot_be_described_is_one_line(argv: list[str], says: str) -> None:
    with pytest.raises(SpecError) as raised:
        _run(*argv)
    assert says in str(raised.value) and "\n" not in str(raised.value)
