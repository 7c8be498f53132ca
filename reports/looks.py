"""How each verdict looks, in every format: a symbol and a word first, a colour second.

The colours are the Okabe-Ito palette (told apart with the common colour-vision deficiencies), and
each is paired with a text colour of at least 4.5:1 contrast; the symbol carries the verdict on paper
and for readers who cannot tell the colours apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.model import Verdict


@dataclass(frozen=True)
class Look:
    verdict: Verdict
    symbol: str
    background: str
    ink: str
    rich: str
    emoji: str

    @property
    def word(self) -> str:
        return self.verdict.value


LOOKS: dict[Verdict, Look] = {
    Verdict.PASS: Look(Verdict.PASS, "✓", "#009E73", "#000000", "green", "✅"),
    Verdict.FAIL: Look(Verdict.FAIL, "✗", "#D55E00", "#000000", "bold red", "❌"),
    Verdict.DEVIATION: Look(Verdict.DEVIATION, "~", "#F0E442", "#000000", "yellow", "⚠️"),
    Verdict.ERROR: Look(Verdict.ERROR, "!", "#CC79A7", "#000000", "magenta", "💥"),
    Verdict.SKIP: Look(Verdict.SKIP, "–", "#C8C8C8", "#000000", "dim", "⏭️"),
}

# Reading order everywhere: the verdicts that need attention first.
ORDER: tuple[Verdict, ...] = (Verdict.FAIL, Verdict.ERROR, Verdict.DEVIATION, Verdict.PASS, Verdict.SKIP)
PROBLEMS: frozenset[Verdict] = frozenset({Verdict.FAIL, Verdict.ERROR, Verdict.DEVIATION})


def worst(verdicts: list[Verdict]) -> Verdict | None:
    """The verdict that speaks for a group (a rule, a family): the first of ORDER present."""
    present = set(verdicts)
    return next((verdict for verdict in ORDER if verdict in present), None)


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two `#RRGGBB` colours."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
