"""The one-line answer of a run, the same in every format: did every gating rule hold?"""

from __future__ import annotations

from dataclasses import dataclass

from reports.model import Results, Verdict


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    text: str


def outcome(results: Results) -> Outcome:
    counts = results.counts()
    total = len(results.cases)
    gating = [case for case in results.cases if case.gating and case.verdict in (Verdict.FAIL, Verdict.ERROR)]
    if gating:
        failed = sum(1 for case in gating if case.verdict is Verdict.FAIL)
        errors = len(gating) - failed
        parts = [f"{failed} gating case{'s' * (failed != 1)} failed"] if failed else []
        parts += [f"{errors} could not be observed (error)"] if errors else []
        return Outcome(Verdict.FAIL if failed else Verdict.ERROR, f"FAIL: {', '.join(parts)} of {total}")
    if total == 0:
        return Outcome(Verdict.SKIP, "no cases ran")
    if counts[Verdict.SKIP] == total:
        return Outcome(Verdict.SKIP, f"every case ({total}) was skipped")
    problems = counts[Verdict.DEVIATION] + counts[Verdict.FAIL] + counts[Verdict.ERROR]
    if problems:
        return Outcome(
            Verdict.DEVIATION,
            f"PASS: every gating rule holds; {problems} of {total} cases deviate from non-gating rules",
        )
    return Outcome(Verdict.PASS, f"PASS: every rule holds ({total} cases)")
