"""What an upstream failure becomes: a clean cold error (COLD-*), or serving the cached copy (STALE-*)."""

from __future__ import annotations

from typing import Literal

from oci_wire import ErrorCode
from proxy_under_test._config import ProxyConfig
from proxy_under_test._defects import Defect
from proxy_under_test._errors import ProxyError
from proxy_under_test._upstream import UpstreamFailure
from proxy_under_test._variants import Variant

Subject = Literal["manifest", "blob", "tags"]
_NOT_FOUND = {"manifest": ErrorCode.MANIFEST_UNKNOWN, "blob": ErrorCode.BLOB_UNKNOWN, "tags": ErrorCode.NAME_UNKNOWN}
_DEFAULT_RETRY_AFTER = "60"

# Which defect, on a cached tag, turns each failure kind into an error instead of the cached copy.
STALE_DEFECTS = {
    "server-error": Defect.NO_STALE_ON_5XX,
    "refused": Defect.NO_STALE_ON_REFUSED,
    "reset": Defect.NO_STALE_ON_RESET,
    "rate-limited": Defect.NO_STALE_ON_429,
    "auth": Defect.NO_STALE_ON_AUTH,
    "token-error": Defect.NO_STALE_ON_AUTH,
}


class Failures:
    """Turns UpstreamFailure into the answer the COLD rules ask for, bent by the defects that are on."""

    def __init__(self, config: ProxyConfig) -> None:
        self._config = config

    def stale_error(self, failure: UpstreamFailure, subject: Subject) -> ProxyError | None:
        """The error a defect answers instead of a cached copy, or None to serve the cache."""
        defect = STALE_DEFECTS.get(failure.kind)
        if defect is None or not self._config.has(defect):
            return None
        if failure.kind == "server-error":
            return ProxyError(ErrorCode.UNAVAILABLE, self._message(failure), status=failure.status)
        return self.cold_error(failure, subject)

    def cold_error(self, failure: UpstreamFailure, subject: Subject) -> ProxyError:
        """The answer when nothing is cached: the status and message say what the upstream did."""
        kind, has, message = failure.kind, self._config.has, self._message(failure)
        not_found = _NOT_FOUND[subject]
        if failure.code == ErrorCode.NAME_UNKNOWN.value:
            not_found = ErrorCode.NAME_UNKNOWN
        if kind == "not-found":
            if has(Defect.COLD_404_AS_500):
                return ProxyError(ErrorCode.UNKNOWN, "internal error")
            return ProxyError(not_found, message)
        if kind == "rate-limited":
            if has(Defect.COLD_429_AS_500):
                return ProxyError(ErrorCode.UNKNOWN, "internal error")
            retry_after = failure.retry_after or _DEFAULT_RETRY_AFTER
            return ProxyError(ErrorCode.TOOMANYREQUESTS, message, headers={"Retry-After": retry_after})
        if kind == "token-error" and has(Defect.COLD_AUTH_AS_404):
            return ProxyError(not_found, f"{subject} unknown")
        if kind == "auth":
            if has(Defect.COLD_AUTH_AS_404):
                return ProxyError(not_found, f"{subject} unknown")
            config = self._config
            if has(Defect.LEAK_CREDENTIALS) and config.upstream_user is not None:
                message += f" (tried {config.upstream_user}:{config.upstream_password})"
            return ProxyError(ErrorCode.UNAVAILABLE, message, status=502)
        if kind in ("refused", "reset", "server-error") and has(Defect.COLD_DOWN_AS_404):
            return ProxyError(not_found, f"{subject} unknown")
        if kind == "timeout":
            return ProxyError(ErrorCode.UNAVAILABLE, message, status=504)
        if kind == "storage":  # 507 Insufficient Storage: the proxy, not the upstream, is at fault
            return ProxyError(ErrorCode.UNAVAILABLE, failure.message, status=507)
        if kind == "server-error" and failure.status in (503, 504):
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
            return ProxyError(ErrorCode.UNAVAILABLE, message, status=failure.status, headers=headers)
        return ProxyError(ErrorCode.UNAVAILABLE, message, status=502)

    def _message(self, failure: UpstreamFailure) -> str:
        return terse(failure) if self._config.has(Variant.TERSE_ERRORS) else failure.message


def terse(failure: UpstreamFailure) -> str:
    """The `terse-errors` variant's wording: what happened and where, never the word "upstream"."""
    where, status = failure.source, failure.status
    if failure.token:
        outcome = "rejected" if status in (401, 403) else "failed"
        return f"token request to {where or 'the token endpoint'} {outcome}: {status}"
    at = f" {where}" if where else ""
    match failure.kind:
        case "refused":
            return f"connection refused by{at or ' the registry'}"
        case "reset":
            return f"connection reset by{at or ' the registry'}"
        case "timeout":
            return f"no answer from{at or ' the registry'} in time"
        case "corrupt":
            return f"bytes from{at or ' the registry'} do not match their digest"
        case "auth":
            return f"registry{at} rejected the proxy's credentials: {status}"
    return f"registry{at} answered {status}" if status is not None else f"bad answer from{at or ' the registry'}"
