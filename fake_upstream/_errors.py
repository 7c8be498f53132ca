"""The exceptions of the registry (rendered as an OCI error body) and of its control API."""

from __future__ import annotations

from serving import OciError


class RegistryError(OciError):
    """What a registry handler raises: answered as an OCI error (`response(head=…)`)."""


class ControlError(Exception):
    """A control API request that failed: bad input (the server side), or an answer that is not a success
    (RemoteUpstream's side). `status` is the HTTP status; None when the control API could not be reached."""

    def __init__(self, message: str, status: int | None = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
