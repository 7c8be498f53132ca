"""OCI error codes, their HTTP statuses, and the `{"errors":[…]}` body."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    BLOB_UNKNOWN = "BLOB_UNKNOWN"
    BLOB_UPLOAD_INVALID = "BLOB_UPLOAD_INVALID"
    BLOB_UPLOAD_UNKNOWN = "BLOB_UPLOAD_UNKNOWN"
    DIGEST_INVALID = "DIGEST_INVALID"
    MANIFEST_BLOB_UNKNOWN = "MANIFEST_BLOB_UNKNOWN"
    MANIFEST_INVALID = "MANIFEST_INVALID"
    MANIFEST_UNKNOWN = "MANIFEST_UNKNOWN"
    NAME_INVALID = "NAME_INVALID"
    NAME_UNKNOWN = "NAME_UNKNOWN"
    SIZE_INVALID = "SIZE_INVALID"
    UNAUTHORIZED = "UNAUTHORIZED"
    DENIED = "DENIED"
    UNSUPPORTED = "UNSUPPORTED"
    TOOMANYREQUESTS = "TOOMANYREQUESTS"
    # Not in the spec's list, but what CNCF distribution answers with.
    PAGINATION_NUMBER_INVALID = "PAGINATION_NUMBER_INVALID"
    RANGE_INVALID = "RANGE_INVALID"
    UNAVAILABLE = "UNAVAILABLE"
    UNKNOWN = "UNKNOWN"

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    ErrorCode.BLOB_UNKNOWN: 404,
    ErrorCode.BLOB_UPLOAD_INVALID: 400,
    ErrorCode.BLOB_UPLOAD_UNKNOWN: 404,
    ErrorCode.DIGEST_INVALID: 400,
    ErrorCode.MANIFEST_BLOB_UNKNOWN: 400,
    ErrorCode.MANIFEST_INVALID: 400,
    ErrorCode.MANIFEST_UNKNOWN: 404,
    ErrorCode.NAME_INVALID: 400,
    ErrorCode.NAME_UNKNOWN: 404,
    ErrorCode.SIZE_INVALID: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.DENIED: 403,
    ErrorCode.UNSUPPORTED: 405,
    ErrorCode.TOOMANYREQUESTS: 429,
    ErrorCode.PAGINATION_NUMBER_INVALID: 400,
    ErrorCode.RANGE_INVALID: 416,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.UNKNOWN: 500,
}


def error_body(code: ErrorCode, message: str, detail: Any = None) -> bytes:
    error: dict[str, Any] = {"code": code.value, "message": message}
    if detail is not None:
        error["detail"] = detail
    return json.dumps({"errors": [error]}, separators=(",", ":")).encode()


def parse_error_body(body: bytes) -> list[tuple[str, str]] | None:
    """The (code, message) pairs of an OCI error body, or None when the body is not one."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("errors"), list) or not document["errors"]:
        return None
    pairs = []
    for error in document["errors"]:
        if not isinstance(error, dict) or not isinstance(error.get("code"), str):
            return None
        pairs.append((error["code"], str(error.get("message", ""))))
    return pairs
