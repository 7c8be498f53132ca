"""The fake upstream as one case drives it: its own repositories, its own faults, and a cursor into the journal.

Every repository a case makes lives under the case's namespace, so a fault armed for the namespace reaches only
that case whatever else runs beside it, and the journal is read for those repositories only, from the upstream's
own sequence (never the harness's clock). A whole-port outage is the one thing that reaches every case: only a
case that holds the upstream exclusively may arm one (see harness.isolation).
"""

from __future__ import annotations

from typing import Any

from fake_upstream import Fault, Image, JournalEntry, Match, Upstream

# Connection-level failures a case can have for itself: the same faults, matched by repository.
_PER_REPOSITORY = frozenset({"reset", "blackhole"})


class IsolationError(RuntimeError):
    """A scenario asked for something that would reach other cases (a harness bug, not a verdict)."""


class CaseUpstream:
    def __init__(self, upstream: Upstream, namespace: str, *, exclusive: bool) -> None:
        self.upstream = upstream
        self.namespace = namespace
        self.exclusive = exclusive
        self.repositories: list[str] = []
        self._faults: list[str] = []
        self._outage = False
        self.disturbed = False  # whether the case ever made the upstream fail (a fault or an outage)

    @property
    def url(self) -> str:
        return self.upstream.url

    # ---- content --------------------------------------------------------------------------------

    def repository(self, name: str) -> str:
        """A repository of this case's own (`name` within the namespace)."""
        repository = f"{self.namespace}/{name}"
        if repository not in self.repositories:
            self.repositories.append(repository)
        return repository

    def add_image(self, repository: str, tag: str | None = "v1", **options: Any) -> Image:
        self._own(repository)
        image: Image = self.upstream.add_image(repository, tag, **options)
        return image

    def delete_tag(self, repository: str, tag: str) -> None:
        self.upstream.delete_tag(self._own(repository), tag)

    def delete_repository(self, repository: str) -> None:
        self.upstream.delete_repository(self._own(repository))

    def expire_tokens(self) -> int:
        return sum(self.upstream.expire_tokens(repository) for repository in self.repositories)

    # ---- failures -------------------------------------------------------------------------------

    def fault(self, name: str, match: Match | None = None, **options: Any) -> str:
        """Arm a fault for this case's repositories only (a Match without a repository gets the namespace).

        Without a Match, it hits the repositories' registry API, not their token requests (`token-fail` is that)."""
        match = match or Match(kind="registry")
        if match.repository is None:
            match = Match(match.method, match.kind, f"{self.namespace}/*", match.reference)
        elif not match.repository.startswith(self.namespace + "/"):
            raise IsolationError(f"a fault on {match.repository!r} would reach other cases")
        fault_id = self.upstream.add_fault(Fault(name, match, **options))  # type: ignore[arg-type]
        self._faults.append(fault_id)
        self.disturbed = True
        return fault_id

    def clear(self, fault_id: str | None = None) -> None:
        """This case's faults (one, or all of them); other cases' stay armed."""
        for armed in [fault_id] if fault_id else list(self._faults):
            self.upstream.clear_faults(armed)
            self._faults.remove(armed)

    def outage(self, mode: str) -> None:
        """The upstream unreachable for this case: `reset` and `blackhole` per repository, `refused` the port."""
        if mode in _PER_REPOSITORY:
            self.fault(mode, Match(kind="any"))  # every request of the case's, its token requests too
        elif mode == "refused":
            if not self.exclusive:
                raise IsolationError("only a case marked @pytest.mark.whole_upstream may refuse the whole port")
            self.upstream.set_outage("refused")
            self._outage = self.disturbed = True
        elif mode == "none":
            self.restore()
        else:
            raise ValueError(f"unknown outage {mode!r}: refused, reset, blackhole or none")

    def restore(self) -> None:
        """Healthy again, for this case: its faults cleared, the port back if it took it down."""
        self.clear()
        if self._outage:
            self.upstream.set_outage("none")
            self._outage = False

    # ---- the journal ------------------------------------------------------------------------------

    def cursor(self) -> int:
        return self.upstream.cursor()

    def journal(self, after: int) -> list[JournalEntry]:
        """This case's upstream requests after `after`, in the upstream's order."""
        entries = [e for r in self.repositories for e in self.upstream.journal(after=after, repository=r)]
        return sorted(entries, key=lambda entry: entry.seq)

    def _own(self, repository: str) -> str:
        if repository not in self.repositories:
            raise IsolationError(f"{repository!r} is not one of this case's repositories: make it with case.image()")
        return repository
