"""JUnit XML: one testsuite per rule family, one testcase per case, what CI systems display.

Verdicts map to JUnit as: fail -> `<failure>`, error -> `<error>`, skip -> `<skipped>`, and
deviation -> `<skipped type="deviation">`: a recommended rule that does not hold is visible in every
CI's test view (with its observation in the message) but never turns a build red; with `--strict`
the harness reports such cases as fail instead. Failures carry the observation, the expectation, the
curl command and the transcripts as text.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from reports import redact
from reports.model import CaseResult, Results, Verdict
from reports.outline import outline
from reports.transcript import case_text

# Characters XML 1.0 cannot carry at all (control characters other than tab and newlines).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(results: Results, *, redacted: bool = False) -> str:
    results = results if redacted else redact.results(results)
    root = Element("testsuites", _attributes(results.cases, name="pullthrough"))
    for family in outline(results.cases):
        suite = SubElement(
            root,
            "testsuite",
            _attributes(
                list(family.cases),
                name=family.family,
                timestamp=results.run.started_at,
                hostname=results.run.host,
            ),
        )
        _properties(suite, _run_properties(results))
        for case in family.cases:
            _testcase(suite, case)
    indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode") + "\n"


def _testcase(suite: Element, case: CaseResult) -> None:
    element = SubElement(
        suite,
        "testcase",
        {"classname": _safe(f"{case.family}.{case.rule}"), "name": _safe(case.id), "time": f"{case.duration:.3f}"},
    )
    _properties(
        element,
        {
            "rule": case.rule,
            "level": case.level,
            "gating": str(case.gating).lower(),
            "verdict": case.verdict.value,
            "observation": case.label,
            "expected": case.expected,
            **{f"param.{name}": value for name, value in case.params.items()},
        },
    )
    summary = f"observed {case.label}; expected {case.expected}" + (f"; {case.message}" if case.message else "")
    if case.verdict is Verdict.FAIL:
        _text(SubElement(element, "failure", message=_safe(summary), type="fail"), case_text(case))
    elif case.verdict is Verdict.ERROR:
        _text(SubElement(element, "error", message=_safe(summary), type="error"), case_text(case))
    elif case.verdict is Verdict.DEVIATION:
        message = f"deviation (recommended rule, not gating): {summary}"
        SubElement(element, "skipped", message=_safe(message), type="deviation")
        _text(SubElement(element, "system-out"), case_text(case))
    elif case.verdict is Verdict.SKIP:
        SubElement(element, "skipped", message=_safe(case.message or "does not apply to this target"), type="skip")


def _attributes(cases: list[CaseResult], **extra: str) -> dict[str, str]:
    def count(*verdicts: Verdict) -> str:
        return str(sum(1 for case in cases if case.verdict in verdicts))

    return {
        **{name: _safe(value) for name, value in extra.items()},
        "tests": str(len(cases)),
        "failures": count(Verdict.FAIL),
        "errors": count(Verdict.ERROR),
        "skipped": count(Verdict.SKIP, Verdict.DEVIATION),
        "time": f"{sum(case.duration for case in cases):.3f}",
    }


def _run_properties(results: Results) -> dict[str, str]:
    run = results.run
    return {
        "target": run.target,
        "target_version": run.target_version or "",
        "target_url": run.target_url or "",
        "profile": run.profile,
        "strict": str(run.strict).lower(),
        "defects": ",".join(run.defects),
        "pullthrough_version": run.pullthrough_version,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "command": run.command,
    }


def _properties(parent: Element, values: dict[str, str]) -> None:
    properties = SubElement(parent, "properties")
    for name, value in values.items():
        SubElement(properties, "property", name=_safe(name), value=_safe(value))


def _text(element: Element, text: str) -> None:
    element.text = _safe(text)


def _safe(text: str) -> str:
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
