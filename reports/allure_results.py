"""Allure results (`*-result.json` plus attachments) from a results file, without pytest.

The labels match the harness's pytest plugin (epic = family, feature = rule ID, story = case id,
severity from the level), so a run rendered from here and one recorded live read the same. A
deviation is `skipped` with a message starting `deviation`, as allure-pytest records the scenario's
xfail; `categories.json` groups those apart from real skips.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from pathlib import Path

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import Attachment, Label, Parameter, StatusDetails, TestResult

from reports import redact
from reports.model import CaseResult, Results, Verdict
from reports.transcript import case_summary, case_text, exchange_text, reproduce, upstream_lines

_STATUS = {
    Verdict.PASS: "passed",
    Verdict.FAIL: "failed",
    Verdict.ERROR: "broken",
    Verdict.SKIP: "skipped",
    Verdict.DEVIATION: "skipped",
}
SEVERITY = {"documented": "critical", "spec": "critical", "recommended": "normal"}
_CATEGORIES = [
    {"name": "Gating rules that do not hold", "matchedStatuses": ["failed"]},
    {"name": "Could not observe (environment or harness)", "matchedStatuses": ["broken"]},
    {"name": "Deviations from recommended rules", "matchedStatuses": ["skipped"], "messageRegex": "deviation.*"},
]


def write_allure(results: Results, directory: str | Path) -> Path:
    """Write one Allure result per case into `directory` (created; existing results are kept)."""
    results = redact.results(results)
    directory = Path(directory)
    logger = AllureFileLogger(directory)  # type: ignore[no-untyped-call]
    clock = _epoch_ms(results.run.started_at)
    for case in results.cases:
        stop = clock + max(int(case.duration * 1000), 1)
        logger.report_result(_result(logger, case, clock, stop))  # type: ignore[no-untyped-call]
        clock = stop
    (directory / "environment.properties").write_text(_environment(results), encoding="utf-8")
    (directory / "categories.json").write_text(json.dumps(_CATEGORIES, indent=1), encoding="utf-8")
    return directory


def _result(logger: AllureFileLogger, case: CaseResult, start: int, stop: int) -> TestResult:
    history = hashlib.md5(case.id.encode(), usedforsecurity=False).hexdigest()
    message = f"observed {case.label}; expected {case.expected}" + (f"; {case.message}" if case.message else "")
    if case.verdict is Verdict.DEVIATION:
        message = f"deviation (recommended rule, not gating): {message}"
    details = None if case.verdict is Verdict.PASS else StatusDetails(message=message, trace=case_text(case))
    labels = [
        Label(name="epic", value=case.family),
        Label(name="feature", value=case.rule),
        Label(name="story", value=case.id),
        Label(name="severity", value=SEVERITY.get(case.level, "normal")),
        Label(name="tag", value=case.level),
        Label(name="tag", value=case.verdict.value),
        Label(name="framework", value="pullthrough"),
    ]
    return TestResult(
        uuid=str(uuid.uuid4()),
        historyId=history,
        testCaseId=history,
        fullName=f"{case.family}.{case.rule}.{case.id}",
        name=case.id,
        description=f"{case.title}: expected {case.expected}" if case.title else f"expected {case.expected}",
        status=_STATUS[case.verdict],
        statusDetails=details,
        stage="finished",
        labels=labels,
        parameters=[Parameter(name=name, value=value) for name, value in case.params.items()],
        attachments=_attachments(logger, case),
        start=start,
        stop=stop,
    )


def _attachments(logger: AllureFileLogger, case: CaseResult) -> list[Attachment]:
    bodies = {
        "observation": case_summary(case),
        "reproduce (curl)": reproduce(case) or "",
        "client <-> proxy": "\n\n".join(exchange_text(exchange) for exchange in case.transcripts.client),
        "proxy <-> upstream": "\n".join(upstream_lines(case.transcripts.upstream)),
    }
    attachments = []
    for name, body in bodies.items():
        if not body:
            continue
        source = f"{uuid.uuid4()}-attachment.txt"
        logger.report_attached_data(body=body, file_name=source)  # type: ignore[no-untyped-call]
        attachments.append(Attachment(name=name, source=source, type="text/plain"))
    return attachments


def _environment(results: Results) -> str:
    run = results.run
    values = {
        "target": run.target,
        "target.version": run.target_version or "unknown",
        "profile": run.profile,
        "strict": str(run.strict).lower(),
        "defects": ",".join(run.defects) or "none",
        "pullthrough": run.pullthrough_version,
        "host": run.host,
    }
    return "".join(f"{name}={_property(value)}\n" for name, value in values.items())


def _property(value: str) -> str:
    # Java properties: backslashes and line breaks escaped, non-Latin-1 as \uXXXX.
    value = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return "".join(c if ord(c) < 256 else f"\\u{ord(c):04x}" for c in value)


def _epoch_ms(timestamp: str) -> int:
    try:
        return int(datetime.fromisoformat(timestamp).timestamp() * 1000)
    except ValueError:
        return 0
