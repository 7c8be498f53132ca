"""The Locust side of a soak: clients that pull images as docker does and verify every byte.

`pullthrough soak` runs it as `locust -f <this file> --headless ... --soak-plan PLAN --soak-result RESULT`,
in a process of its own (Locust monkey-patches it with gevent). Alone, or as a master with workers (Locust's
`--processes N` on this machine, or `--master` here and `locust -f <this file> --worker --master-host HOST`
on other machines): the master reads the plan and hands it to its workers with the options it sends them,
each worker sends its tally to the master with every report, and the master writes the result.

A client is a slot of the plan (its pulls come from the seed and the slot); it stops after its quota, and
the run stops when every client has, or when `--run-time` says. Locust's state lives where Locust puts it:
on the environment's options and on the user class.
"""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path
from typing import Any, ClassVar

from locust import User, constant, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from harness.client import OciClient
from harness.soak.plan import Plan
from harness.soak.pulling import pull
from harness.soak.tally import Tally

PERCENTILES = (0.5, 0.9, 0.95, 0.99)


class Outcome(Exception):  # noqa: N818 (it is what Locust records as a request's failure)
    """A request that did not get the right content, served whole: its observation's label."""


class _Soak:
    """This process's part of the soak: the plan, the slots it hands out, its tally."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.tally = Tally()
        self._plan: Plan | None = None
        self._slots: itertools.count[int] | None = None

    @property
    def plan(self) -> Plan:
        if self._plan is None:
            self._plan = Plan.from_json(_options(self.environment).soak_plan_json)
        return self._plan

    def claim_slot(self) -> int:
        """Local: 0, 1, 2...; worker i of W: i, i + W, i + 2W... (so W workers share the slots out)."""
        if self._slots is None:
            runner = self.environment.runner
            if isinstance(runner, WorkerRunner):
                workers = int(_options(self.environment).expect_workers or 1)
                self._slots = itertools.count(runner.worker_index, workers)
            else:
                self._slots = itertools.count()
        return next(self._slots)

    def user_done(self) -> None:
        self.tally.done_users += 1
        self._quit_when_all_done(self.tally.done_users)

    def worker_reported(self, data: dict[str, Any]) -> None:
        self.tally.merge(data)
        self._quit_when_all_done(self.tally.done_users)

    def _quit_when_all_done(self, done: int) -> None:
        runner = self.environment.runner
        if runner is not None and not isinstance(runner, WorkerRunner) and done >= self.plan.users:
            runner.greenlet.spawn(runner.quit)  # not from a user's greenlet, which quitting kills

    def result(self) -> dict[str, Any]:
        stats = self.environment.stats
        total = stats.total
        return {
            "tally": self.tally.to_dict(),
            "stats": {
                "requests": total.num_requests,
                "failures": total.num_failures,
                "rps": round(total.total_rps, 2),
                "seconds": round(max(0.0, total.last_request_timestamp - total.start_time), 3)
                if total.last_request_timestamp
                else 0.0,
                "ms": {
                    **{f"p{round(q * 100)}": total.get_response_time_percentile(q) for q in PERCENTILES},
                    "avg": round(total.avg_response_time, 1),
                    "max": total.max_response_time,
                },
                "by_request": {
                    name: {
                        "requests": entry.num_requests,
                        "failures": entry.num_failures,
                        "p50": entry.get_response_time_percentile(0.5),
                        "p99": entry.get_response_time_percentile(0.99),
                    }
                    for (name, _method), entry in sorted(stats.entries.items())
                },
            },
        }


class Puller(User):
    """One client: its slot's pulls, one after the other, as fast as answers come."""

    wait_time = constant(0)
    soak: ClassVar[_Soak]  # set when Locust initialises the environment

    def on_start(self) -> None:
        plan = self.soak.plan
        self.slot = self.soak.claim_slot()
        self.pulls = plan.choices(self.slot)
        self.oci = OciClient(plan.proxy_url, timeout=plan.timeout)

    def on_stop(self) -> None:
        self.oci.close()

    @task
    def pull_one(self) -> None:
        image = next(self.pulls, None)
        if image is None:
            self.soak.user_done()
            raise StopUser()
        whole = False
        for step in pull(self.oci, image):
            observation = step.observation
            self.environment.events.request.fire(
                request_type=step.name.split()[0],
                name=step.name,
                response_time=(observation.seconds or 0.0) * 1000,
                response_length=observation.bytes or 0,
                exception=None if step.ok else Outcome(observation.label),
                context={"repository": step.repository},
            )
            self.soak.tally.add_step(step)
            whole = step.ok
        self.soak.tally.add_pull(whole)


def _options(environment: Environment) -> Any:
    options = environment.parsed_options
    if options is None:
        raise RuntimeError("the soak's locustfile runs under the locust command, which parses options")
    return options


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument("--soak-plan", help="the soak's plan (JSON, from pullthrough soak)", default="")
    parser.add_argument("--soak-result", help="where the master writes the result (JSON)", default="")
    parser.add_argument("--soak-ready", help="a file the master creates when the test starts", default="")


@events.init.add_listener
def _init(environment: Environment, **_kwargs: Any) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request: Locust's stats count them
    soak = Puller.soak = _Soak(environment)
    options = environment.parsed_options
    if options is None:
        return
    if not isinstance(environment.runner, WorkerRunner):
        # Workers get it from the master, with the options it sends them.
        options.soak_plan_json = Path(options.soak_plan).read_text() if options.soak_plan else ""
    if isinstance(environment.runner, WorkerRunner):
        environment.events.report_to_master.add_listener(lambda data, **_: data.update(soak=soak.tally.drain()))
    if isinstance(environment.runner, MasterRunner):
        environment.events.worker_report.add_listener(
            lambda data, **_: soak.worker_reported(data["soak"]) if "soak" in data else None
        )


@events.test_start.add_listener
def _started(environment: Environment, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is not None and options.soak_ready and not isinstance(environment.runner, WorkerRunner):
        Path(options.soak_ready).touch()


@events.quitting.add_listener
def _quitting(environment: Environment, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is None or not options.soak_result or isinstance(environment.runner, WorkerRunner):
        return
    Path(options.soak_result).write_text(json.dumps(Puller.soak.result()))
