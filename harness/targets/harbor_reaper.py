"""Deleting the repositories of finished cases while the next cases run.

Harbor deletes a repository artifact by artifact (tags, blob links, the manifest in its registry): a second or more
each on a busy Harbor. Left to the run's teardown, a worker's dozen repositories kept a full run waiting minutes at
its end; deleted between cases, in the cases' own time, they made every case seconds longer. So one thread per
worker deletes them in the background, one at a time. The run's teardown removes whatever is left, a repository
Harbor stored again after it was deleted included (an index pulled for one platform is stored up to 400 s later).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable

from harness.targets.harbor_api import HarborApi, HarborError


class Reaper:
    def __init__(self, api: HarborApi, project: str) -> None:
        self._api, self._project = api, project
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"harbor-reaper-{project}", daemon=True)
        self._thread.start()

    def delete(self, repositories: Iterable[str]) -> None:
        for repository in repositories:
            self._queue.put(repository)

    def stop(self, timeout: float) -> None:
        """Finish what is queued (at most the last case's repositories), for up to `timeout` seconds."""
        self._queue.put(None)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._api.close()

    def _run(self) -> None:
        while (repository := self._queue.get()) is not None:
            try:
                self._api.delete_repository(self._project, repository)
            except HarborError:
                pass  # not a repository Harbor has (a case's odd path), or Harbor busy: the teardown lists what is left
