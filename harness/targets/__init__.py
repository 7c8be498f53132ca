"""Targets: how to start or reach each proxy implementation. One module each."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from harness.targets.base import Target, TargetError, UpstreamInfo

if TYPE_CHECKING:
    from harness.spec import RunSpec

TARGETS = {
    "reference": "harness.targets.reference:ReferenceTarget",
    "distribution": "harness.targets.distribution:DistributionTarget",
    "nginx": "harness.targets.nginx:NginxTarget",
    "zot": "harness.targets.zot:ZotTarget",
    "external": "harness.targets.external:ExternalTarget",
    "harbor": "harness.targets.harbor:HarborTarget",
}


def target_class(name: str) -> type[Target]:
    try:
        module_name, _, class_name = TARGETS[name].partition(":")
    except KeyError:
        raise TargetError(f"unknown target {name!r}; one of: {', '.join(TARGETS)}") from None
    found: type[Target] = getattr(importlib.import_module(module_name), class_name)
    return found


def make_target(spec: RunSpec) -> Target:
    return target_class(spec.target)(spec)


__all__ = ["TARGETS", "Target", "TargetError", "UpstreamInfo", "make_target", "target_class"]
