"""`Upstream`: what a harness drives, whether the fake upstream runs in-process or elsewhere.

FakeUpstream (in this process) and RemoteUpstream (through a control API) both implement it with the
same signatures; mypy checks that at the end of this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from fake_upstream._activity import Activity
from fake_upstream._faults import Fault, Match
from fake_upstream._journal import JournalEntry
from fake_upstream._model import Image
from fake_upstream._outages import Outage


@runtime_checkable
class Upstream(Protocol):
    @property
    def url(self) -> str:
        """The registry's base URL (what a proxy is pointed at)."""
        ...

    @property
    def control_url(self) -> str: ...

    # ---- content --------------------------------------------------------------------------------

    def add_image(
        self,
        repository: str,
        tag: str | None = "latest",
        *,
        layers: Sequence[int] = (2048,),
        media_type: str = "oci",
        platforms: Sequence[str] | None = None,
        gzip: bool = True,
        seed: int | None = None,
    ) -> Image: ...

    def add_blob(self, repository: str, data: bytes, media_type: str = "application/octet-stream") -> str: ...

    def add_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str: ...

    def tag(self, repository: str, tag: str, digest: str) -> None: ...

    def delete_tag(self, repository: str, tag: str) -> None: ...

    def delete_repository(self, repository: str) -> None: ...

    def tags(self, repository: str) -> list[str]: ...

    def repositories(self) -> list[str]: ...

    def inventory(self) -> dict[str, Any]: ...

    # ---- faults and outages ---------------------------------------------------------------------

    def add_fault(self, fault: Fault | str, match: Match | None = None, **options: Any) -> str: ...

    def clear_faults(self, fault_id: str | None = None) -> None: ...

    def faults(self) -> list[tuple[str, Fault]]: ...

    def set_outage(self, mode: Outage | str) -> None: ...

    # ---- journal, quota, reset ------------------------------------------------------------------

    def journal(
        self, since: float | None = None, *, after: int | None = None, repository: str | None = None
    ) -> list[JournalEntry]: ...

    def cursor(self) -> int: ...

    def activity(self, repository: str) -> Activity: ...

    def clear_journal(self) -> None: ...

    def expire_tokens(self, repository: str | None = None) -> int: ...

    def quota_usage(self) -> dict[str, int]: ...

    def reset(self) -> None: ...


if TYPE_CHECKING:  # mypy's proof that both implementations are Upstreams
    from fake_upstream._remote import RemoteUpstream
    from fake_upstream._server import FakeUpstream

    def _both(fake: FakeUpstream, remote: RemoteUpstream) -> tuple[Upstream, Upstream]:
        return fake, remote
