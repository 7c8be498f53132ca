from __future__ import annotations

from reports.looks import LOOKS, ORDER, contrast, worst
from reports.model import Verdict


def test_every_verdict_has_a_distinct_symbol_and_colour() -> None:
    assert set(LOOKS) == set(Verdict) == set(ORDER)
    assert len({look.symbol for look in LOOKS.values()}) == len(Verdict)
    assert len({look.background for look in LOOKS.values()}) == len(Verdict)


def test_text_on_every_verdict_colour_is_readable() -> None:
    for look in LOOKS.values():
        assert contrast(look.ink, look.background) >= 4.5, look.word


def test_contrast_matches_wcag_reference_values() -> None:
    assert round(contrast("#000000", "#FFFFFF"), 1) == 21.0
    assert round(contrast("#777777", "#FFFFFF"), 2) == 4.48


def test_worst_prefers_failures() -> None:
    assert worst([Verdict.PASS, Verdict.DEVIATION, Verdict.FAIL]) is Verdict.FAIL
    assert worst([Verdict.PASS, Verdict.SKIP]) is Verdict.PASS
    assert worst([]) is None
