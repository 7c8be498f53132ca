"""Targets: how to start or reach each proxy implementation. One module each."""

from __future__ import annotations

import importlib

from harness.targets.base import Target, TargetError, TargetOptions, UpstreamInfo

TARGETS = {
    "reference": "harness.targets.reference:ReferenceTarget",
    "distribution": "harness.targets.distribution:DistributionTarget",
    "nginx": "harness.targets.nginx:NginxTarget",
    "external": "harness.targets.external:ExternalTarget",
}


def make_target(name: str, options: TargetOptions) -> Target:
    try:
        module_name, _, class_name = TARGETS[name].partition(":")
    except KeyError:
        raise TargetError(f"unknown target {name!r}; one of {', '.join(TARGETS)}") from None
    target_class: type[Target] = getattr(importlib.import_module(module_name), class_name)
    return target_class(options)


__all__ = ["TARGETS", "Target", "TargetError", "TargetOptions", "UpstreamInfo", "make_target"]
