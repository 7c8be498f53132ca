"""The control API described as OpenAPI 3.1, served at /_control/openapi.json (and fuzzed from it)."""

from __future__ import annotations

from typing import Any

from fake_upstream._faults import FAULT_NAMES, KINDS, TRUNCATE_HOWS
from fake_upstream._outages import OUTAGES

_NAME = {"type": "string", "minLength": 1, "examples": ["team/app"]}
_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
_ANY_OBJECT = {"type": "object"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _answers(ok: str, schema: dict[str, Any] | None, *errors: str) -> dict[str, Any]:
    answers: dict[str, Any] = {ok: {"description": "done", **(_json(schema) if schema else {})}}
    # 404 and 405 anywhere: a name holding a slash may route a request to another operation's path.
    for status in ("400", "403", "404", "405", "415", *errors):
        answers[status] = {"description": "refused; nothing changed", **_json(_ERROR)}
    return answers


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return {"required": True, **_json(schema)}


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _NAME}


_LAYER = {"type": "object", "required": ["digest", "size", "media_type"]}
_IMAGE = {
    "type": "object",
    "required": ["repository", "tag", "digest", "media_type", "size", "platforms"],
    "properties": {"platforms": {"type": "array", "items": {"type": "object", "properties": {"config": _LAYER}}}},
}
_MATCH = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "method": {"type": ["string", "null"]},
        "kind": {"enum": list(KINDS)},
        "repository": {"type": ["string", "null"]},
        "reference": {"type": ["string", "null"]},
    },
}
_FAULT = {
    "fault": {"enum": list(FAULT_NAMES)},
    "match": _MATCH,
    "times": {"type": ["integer", "null"], "minimum": 1},
    "fraction": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 1},
    "seed": {"type": "integer"},
    "after_bytes": {"type": ["integer", "null"], "minimum": 0},
    "rate": {"type": ["integer", "null"], "minimum": 1},
    "status": {"type": ["integer", "null"], "minimum": 400, "maximum": 599},
    "plain": {"type": "boolean"},
    "delta": {"type": ["integer", "null"]},
    "how": {"enum": list(TRUNCATE_HOWS)},
}
_ENTRY = {"type": "object", "required": ["seq", "time", "method", "path", "kind", "status"]}
_ACTIVITY = {
    "type": "object",
    "required": ["last_seq", "idle", "in_flight"],
    "properties": {
        "last_seq": {"type": "integer"},
        "idle": {"type": ["number", "null"]},
        "in_flight": {"type": "integer"},
    },
}


def openapi() -> dict[str, Any]:
    outage = {"type": "object", "required": ["mode"], "properties": {"mode": {"enum": list(OUTAGES)}}}
    paths: dict[str, Any] = {
        "/_control/": {"get": {"summary": "the URLs and the outage", "responses": _answers("200", _ANY_OBJECT)}},
        "/_control/images": {
            "post": {
                "summary": "make a synthetic image and tag it",
                "requestBody": _body(
                    {
                        "repository": _NAME,
                        "tag": {"type": ["string", "null"]},
                        "layers": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                        "media_type": {"enum": ["oci", "docker"]},
                        "platforms": {"type": "array", "items": {"type": "string"}},
                        "gzip": {"type": "boolean"},
                        "seed": {"type": ["integer", "null"]},
                    },
                    ["repository"],
                ),
                "responses": _answers("201", _IMAGE, "413"),
            }
        },
        "/_control/manifests": {
            "post": {
                "summary": "store manifest bytes as given",
                "requestBody": _body(
                    {"repository": _NAME, "reference": _NAME, "media_type": _NAME, "body": {"type": "string"}},
                    ["repository", "reference", "media_type", "body"],
                ),
                "responses": _answers("201", {"type": "object", "required": ["digest"]}, "404", "413"),
            }
        },
        "/_control/blobs": {
            "post": {
                "summary": "store blob bytes (base64)",
                "requestBody": _body(
                    {"repository": _NAME, "data_base64": {"type": "string"}, "media_type": {"type": "string"}},
                    ["repository", "data_base64"],
                ),
                "responses": _answers("201", {"type": "object", "required": ["digest"]}, "413"),
            }
        },
        "/_control/repositories/{name}/tags/{tag}": {
            "parameters": [_path("name"), _path("tag")],
            "put": {
                "summary": "point a tag at a manifest the repository has",
                "requestBody": _body({"digest": {"type": "string"}}, ["digest"]),
                "responses": _answers("204", None, "404", "413"),
            },
            "delete": {"summary": "delete a tag", "responses": _answers("204", None, "404")},
        },
        "/_control/repositories/{name}/tags": {
            "parameters": [_path("name")],
            "get": {"summary": "a repository's tags", "responses": _answers("200", {"type": "array"}, "404")},
        },
        "/_control/repositories/{name}": {
            "parameters": [_path("name")],
            "delete": {"summary": "delete a repository", "responses": _answers("204", None, "404")},
        },
        "/_control/repositories": {"get": {"summary": "repositories", "responses": _answers("200", {"type": "array"})}},
        "/_control/inventory": {
            "get": {"summary": "what the registry holds", "responses": _answers("200", _ANY_OBJECT)}
        },
        "/_control/faults": {
            "get": {"summary": "armed faults", "responses": _answers("200", {"type": "array"})},
            "post": {
                "summary": "arm a fault",
                "requestBody": _body(_FAULT, ["fault"]),
                "responses": _answers("201", {"type": "object", "required": ["id"]}, "413"),
            },
            "delete": {"summary": "disarm every fault", "responses": _answers("204", None)},
        },
        "/_control/faults/{fault_id}": {
            "parameters": [_path("fault_id")],
            "delete": {"summary": "disarm one fault", "responses": _answers("204", None, "404")},
        },
        "/_control/outage": {
            "get": {"summary": "the outage", "responses": _answers("200", outage)},
            "post": {
                "summary": "switch the registry port's outage",
                "requestBody": _body({"mode": {"enum": list(OUTAGES)}}, ["mode"]),
                "responses": _answers("200", outage, "413"),
            },
        },
        "/_control/journal": {
            "get": {
                "summary": "requests in arrival order",
                "parameters": [
                    _query("since", {"type": "number"}),
                    _query("after", {"type": "integer", "minimum": 0}),
                    _query("repository", {"type": "string"}),
                ],
                "responses": _answers("200", {"type": "array", "items": _ENTRY}),
            },
            "delete": {"summary": "forget the entries", "responses": _answers("204", None)},
        },
        "/_control/journal/cursor": {
            "get": {
                "summary": "the latest sequence number",
                "responses": _answers("200", {"type": "object", "required": ["cursor"]}),
            }
        },
        "/_control/activity": {
            "get": {
                "summary": "a repository's activity",
                "parameters": [_query("repository", _NAME, required=True)],
                "responses": _answers("200", _ACTIVITY),
            }
        },
        "/_control/quota": {"get": {"summary": "pulls counted per client", "responses": _answers("200", _ANY_OBJECT)}},
        "/_control/tokens/expire": {
            "post": {
                "summary": "expire the tokens issued so far",
                "requestBody": _body({"repository": {"type": ["string", "null"], "minLength": 1}}, []),
                "responses": _answers("200", {"type": "object", "required": ["expired"]}, "413"),
            }
        },
        "/_control/reset": {"post": {"summary": "empty and healthy again", "responses": _answers("204", None)}},
        "/_control/openapi.json": {"get": {"summary": "this document", "responses": _answers("200", _ANY_OBJECT)}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "pullthrough fake upstream control API", "version": "1"},
        "paths": paths,
    }
