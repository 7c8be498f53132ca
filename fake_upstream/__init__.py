"""A faithful OCI registry that fails on command, and records every request it gets.

with FakeUpstream(auth="token", users={"alice": "secret"}) as upstream:
    image = upstream.add_image("team/app", "v1", layers=[4096, 1 << 20], platforms=["linux/amd64"])
    upstream.add_fault("503", Match(kind="manifest", repository="team/app"), times=2)
    upstream.set_outage("refused")
    upstream.journal(after=upstream.cursor())

`Upstream` is the protocol a harness drives; FakeUpstream (in this process) and RemoteUpstream
(one running elsewhere, through its control API) both implement it.
"""

import logging

from fake_upstream._activity import Activity
from fake_upstream._config import ConfigError, ImageSpec, UpstreamConfig, load_config, parse_config
from fake_upstream._errors import ControlError, RegistryError
from fake_upstream._faults import FAULT_NAMES, KINDS, Fault, FaultError, Match
from fake_upstream._journal import DEFAULT_JOURNAL_LIMIT, JournalEntry
from fake_upstream._model import Image, LayerInfo, PlatformInfo
from fake_upstream._outages import OUTAGES, Outage
from fake_upstream._protocol import Upstream
from fake_upstream._quota import QuotaConfig
from fake_upstream._remote import RemoteUpstream
from fake_upstream._server import FakeUpstream

# A library stays quiet unless its application configures logging.
logging.getLogger("fake_upstream").addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_JOURNAL_LIMIT",
    "FAULT_NAMES",
    "KINDS",
    "OUTAGES",
    "Activity",
    "ConfigError",
    "ControlError",
    "FakeUpstream",
    "Fault",
    "FaultError",
    "Image",
    "ImageSpec",
    "JournalEntry",
    "LayerInfo",
    "Match",
    "Outage",
    "PlatformInfo",
    "QuotaConfig",
    "RegistryError",
    "RemoteUpstream",
    "Upstream",
    "UpstreamConfig",
    "load_config",
    "parse_config",
]
