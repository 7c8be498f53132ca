"""What an upstream failure becomes: a clean cold error (COLD-*), or serving the cached copy (STALE-*)."""

from __future__ import annotations

from typing import Literal

from oci_wire import ErrorCode
from proxy_under_test._errors import ProxyError
from proxy_under_test._upstream import UpstreamFailure

Subject = Literal["manifest", "blob", "tags"]
_NOT_FOUND = {"manifest": ErrorCode.MANIFEST_UNKNOWN, "blob": ErrorCode.BLOB_UNKNOWN, "tags": ErrorCode.NAME_UNKNOWN}
_DEFAULT_RETRY_AFTER = "60"

# Which defect, on a cached tag, turns each failure kind into an error instead of the cached copy.
STALE_DEFECTS = {
    "server-error": "no-stale-on-5xx",
    "refused": "no-stale-on-refused",
    "reset": "no-stale-on-reset",
    "rate-limited": "no-stale-on-429",
    "auth": "no-stale-on-auth",
}


class Failures:
    """Turns UpstreamFailure into the answer the COLD rules ask for, bent by the defects that are on."""

    def __init__(self, defects: frozenset[str], credentials: tuple[str, str] | None) -> None:
        self._defects = defects
        self._credentials = credentials

    def stale_error(self, failure: UpstreamFailure, subject: Subject) -> ProxyError | None:
        """The error a defect answers instead of a cached copy, or None to serve the cache."""
        defect = STALE_DEFECTS.get(failure.kind)
        if defect is None or defect not in self._defects:
            return None
        if failure.kind == "server-error":
            return ProxyError(ErrorCode.UNAVAILABLE, failure.message, status=failure.status)
        return self.cold_error(failure, subject)

    def cold_error(self, failure: UpstreamFailure, subject: Subject) -> ProxyError:
        """The answer when nothing is cached: the status and message say what the upstream did."""
        kind, defects = failure.kind, self._defects
        not_found = _NOT_FOUND[subject]
        if failure.code == ErrorCode.NAME_UNKNOWN.value:
            not_found = ErrorCode.NAME_UNKNOWN
        if kind == "not-found":
            if "cold-404-as-500" in defects:
                return ProxyError(ErrorCode.UNKNOWN, "internal error")
            return ProxyError(not_found, failure.message)
        if kind == "rate-limited":
            if "cold-429-as-500" in defects:
                return ProxyError(ErrorCode.UNKNOWN, "internal error")
            retry_after = failure.retry_after or _DEFAULT_RETRY_AFTER
            return ProxyError(ErrorCode.TOOMANYREQUESTS, failure.message, headers={"Retry-After": retry_after})
        if kind == "auth":
            if "cold-auth-as-404" in defects:
                return ProxyError(not_found, f"{subject} unknown")
            message = failure.message
            if "leak-credentials" in defects and self._credentials is not None:
                message += " (tried {}:{})".format(*self._credentials)
            return ProxyError(ErrorCode.UNAVAILABLE, message, status=502)
        if kind in ("refused", "reset", "server-error") and "cold-down-as-404" in defects:
            return ProxyError(not_found, f"{subject} unknown")
        if kind == "timeout":
            return ProxyError(ErrorCode.UNAVAILABLE, failure.message, status=504)
        if kind == "server-error" and failure.status in (503, 504):
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
            return ProxyError(ErrorCode.UNAVAILABLE, failure.message, status=failure.status, headers=headers)
        return ProxyError(ErrorCode.UNAVAILABLE, failure.message, status=502)
