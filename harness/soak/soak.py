"""A soak, start to end: the world up, images made, Locust pulling while the faults cycle, then the checks.

This process runs the fake upstream (a thread with its event loop) and drives the schedule through the
`Upstream` API; the target runs where its target class puts it (the reference proxy as a subprocess, so its
memory and descriptors are its own); Locust runs as a subprocess. Bounded in time (`duration`, each cycle,
every wait) and in count (`pulls`, the schedule's cycles).
"""

from __future__ import annotations

import math
import os
import resource
import secrets
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from fake_upstream import Upstream
from harness.client import OciClient
from harness.poll import Timeout, wait_until
from harness.soak import probe
from harness.soak.engine import LOCUSTFILE, Engine, EngineError, EngineSettings
from harness.soak.plan import Plan, make_images
from harness.soak.schedule import Cycle, make_schedule
from harness.soak.summary import Resources, Summary
from harness.soak.tally import Tally
from harness.soak.timeline import Disturbance, unexplained
from harness.spec import RunSpec
from harness.world import World

_START_DEADLINE = 60.0  # Locust's imports and the clients' spawn on a busy machine
_REMOTE_WORKERS_DEADLINE = 600.0  # workers on other machines: someone starts them by hand
_SAMPLE = 0.5
_DESCRIPTORS_DEADLINE = 20.0  # after the load: idle pooled connections expire (httpx: 5 s) and are closed


@dataclass(frozen=True)
class SoakSettings:
    users: int = 10
    pulls: int = 1000
    duration: float = 60.0
    cycle: float = 2.0
    vocabulary: tuple[str, ...] | None = None  # None: every fault the target can meet
    healthy: float = 0.25
    images: int | None = None  # None: one per 25 pulls, 8 to 400
    processes: int = 0
    expect_workers: int = 0
    master_host: str = "127.0.0.1"
    master_port: int = 0
    max_rss_mib: float | None = None

    @property
    def image_count(self) -> int:
        return self.images or max(8, min(400, self.pulls // 25))


class SoakError(RuntimeError):
    """The soak could not run (Locust failed, the world did not start); the message says why."""


Report = Callable[[str], None]


def run_soak(
    spec: RunSpec,
    settings: SoakSettings,
    vocabulary: Callable[[bool], tuple[str, ...]],
    *,
    command: str = "",
    report: Report = lambda line: None,
) -> Summary:
    """`vocabulary(login)`: the faults to cycle through, given whether the target logs in to the upstream."""
    load_before = os.getloadavg()
    started = time.monotonic()
    world = World(spec)
    world.start()
    try:
        namespace = f"soak-{spec.seed}/{secrets.token_hex(3)}"
        report(f"making {settings.image_count} images upstream (seed {spec.seed})")
        images = make_images(
            world.upstream, count=settings.image_count, seed=spec.seed, namespace=namespace, path=world.target.path
        )
        repositories = sorted({image.repository for image in images})
        schedule = make_schedule(
            seed=spec.seed,
            cycles=max(1, math.ceil(settings.duration / settings.cycle)),
            repositories=repositories,
            vocabulary=vocabulary(world.credentials is not None),
            healthy=settings.healthy,
        )
        plan = Plan(world.target.url, world.timeout, spec.seed, settings.users, settings.pulls, tuple(images))
        pid = world.target.pid
        touch = _Touch(world.client(), images[0].path)
        touch()  # the baseline holds what one request leaves: an idle connection to the upstream, a token
        before = probe.read(pid) if pid is not None else None
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        with tempfile.TemporaryDirectory(prefix="pullthrough-soak-") as directory:
            engine = Engine(plan, Path(directory), _engine_settings(settings))
            watch = _Watch(pid)
            try:
                engine.start()
                report(f"Locust: {settings.users} clients, at most {settings.pulls} pulls and {settings.duration:g} s")
                if settings.expect_workers:
                    report(
                        f"Locust's master waits for {settings.expect_workers} workers: on each machine, "
                        f"locust -f {LOCUSTFILE} --worker --master-host {settings.master_host} "
                        f"--master-port {engine.master_port}"
                    )
                deadline = _REMOTE_WORKERS_DEADLINE if settings.expect_workers else _START_DEADLINE
                wait_until(engine.started, timeout=deadline, what="Locust's clients", interval=0.1)
                timeline = _drive(schedule, world.upstream, engine, settings.cycle, watch, report)
                if not engine.wait(math.ceil(world.timeout * 2) + _START_DEADLINE):
                    report("Locust did not stop on time: stopping it")
            except Timeout as error:
                raise SoakError(str(error)) from None
            except EngineError as error:
                raise SoakError(str(error)) from None
            finally:
                engine.stop()
            # Locust (and the workers it waited for) is a child this process has waited for; the fake upstream
            # runs here, in a thread; the proxy is read from /proc.
            cpu = {
                "clients": _cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN), children),
                "upstream_and_soak": _cpu_seconds(resource.getrusage(resource.RUSAGE_SELF), own),
            }
            try:
                result = engine.result()
            except EngineError as error:
                raise SoakError(str(error)) from None
        tally = Tally.from_dict(result["tally"])
        resources = _resources(pid, before, watch, touch) if pid is not None and before is not None else None
        touch.client.close()
        corrupt = world.target.unverified() if "storage" in world.target.capabilities else None
    finally:
        world.stop()
    summary = Summary(
        run={
            "command": command,
            "target": spec.target,
            "seed": spec.seed,
            "users": settings.users,
            "pulls": settings.pulls,
            "duration": settings.duration,
            "cycle": settings.cycle,
            "images": len(images),
            "repositories": len(repositories),
            "processes": settings.processes,
            "timeout": world.timeout,
            "elapsed": round(time.monotonic() - started, 1),
            "load_before": [round(value, 2) for value in load_before],
            "load_after": [round(value, 2) for value in os.getloadavg()],
            "cpus": os.cpu_count(),
            "cpu_seconds": {
                **({"proxy": round(resources.after.cpu - resources.before.cpu, 1)} if resources is not None else {}),
                **cpu,
            },
        },
        stats=result["stats"],
        tally=tally,
        unexplained=unexplained(tally.errors, [d for d in timeline if d.name != "healthy"], grace=world.timeout),
        corrupt=corrupt,
        resources=resources,
        schedule=[
            {**cycle.to_dict(), "started": round(ran.started, 3), "ended": round(ran.ended, 3)}
            for cycle, ran in zip(schedule, timeline, strict=False)
        ],
        max_rss_mib=settings.max_rss_mib,
    )
    summary.judge()
    return summary


class _Watch:
    """The proxy's highest RSS and descriptor count, sampled while the load runs."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.rss = 0
        self.fds = 0

    def sample(self) -> None:
        if self.pid is None:
            return
        reading = probe.read(self.pid)
        if reading is not None:
            self.rss = max(self.rss, reading.rss, reading.peak)
            self.fds = max(self.fds, reading.fds)


def _drive(
    schedule: Sequence[Cycle], upstream: Upstream, engine: Engine, cycle: float, watch: _Watch, report: Report
) -> list[Disturbance]:
    """Each cycle in turn until Locust ends: armed, held `cycle` seconds, taken off; the cycles run, with when."""
    timeline = []
    for number, item in enumerate(schedule, 1):
        if engine.exited():
            break
        report(f"cycle {number}/{len(schedule)}: {item.describe()}")
        began = time.time()
        disarm = item.arm(upstream)
        try:
            ends = time.monotonic() + cycle
            while time.monotonic() < ends and not engine.wait(min(_SAMPLE, ends - time.monotonic())):
                watch.sample()
        finally:
            disarm()
            timeline.append(Disturbance(item.name, began, time.time(), item.repositories))
    return timeline


class _Touch:
    """One request through the proxy that makes it ask the upstream (a tag that is not there).

    A connection pool closes the idle connections the upstream has hung up on (CLOSE_WAIT) or kept past their
    expiry when it is next used, not before (httpx's, for one): a request now and then after the load lets it,
    so what stays open afterwards is what nothing will close.
    """

    def __init__(self, client: OciClient, path: str) -> None:
        self.client = client
        self.path = path

    def __call__(self) -> None:
        try:
            self.client.manifest(self.path, "pullthrough-soak-absent", method="HEAD")
        except httpx.HTTPError:
            pass  # the reading that follows says what the proxy holds, whatever this got
        finally:
            self.client.exchanges.clear()
            self.client.raw_answers.clear()


def _resources(pid: int, before: probe.Reading, watch: _Watch, touch: _Touch) -> Resources:
    """After the load: wait (a bounded while, a request through the proxy a second) for the descriptors to
    come back down, then read."""
    watch.sample()

    def settled() -> probe.Reading | None:
        touch()
        reading = probe.read(pid)
        return reading if reading is not None and reading.fds <= before.fds else None

    try:
        after = wait_until(settled, timeout=_DESCRIPTORS_DEADLINE, what="the proxy's descriptors", interval=1.0)
    except Timeout:
        after = probe.read(pid) or before
    assert after is not None
    return Resources(before=before, after=after, peak_rss=max(watch.rss, after.peak), peak_fds=watch.fds)


def _cpu_seconds(now: resource.struct_rusage, then: resource.struct_rusage) -> float:
    return round((now.ru_utime + now.ru_stime) - (then.ru_utime + then.ru_stime), 1)


def _engine_settings(settings: SoakSettings) -> EngineSettings:
    return EngineSettings(
        duration=settings.duration,
        processes=settings.processes,
        expect_workers=settings.expect_workers,
        master_host=settings.master_host,
        master_port=settings.master_port,
    )
