"""`pullthrough soak`: many clients pull through a target while the fake upstream cycles through faults.

The parts, one concept each: `plan` (the images and who pulls what, from the seed), `schedule` (which fault
or outage each cycle brings, from the seed), `pulling` (one pull as docker does it, every answer classified in
the harness's words), `tally` (what the clients saw, mergeable across Locust workers), `locustfile` (the Locust
side: the only module that imports Locust, and so gevent), `engine` (Locust as a subprocess), `probe` (a
process's RSS and descriptors from /proc), `summary` (the figures, the invariants, JSON and a table) and
`soak` (the run that ties them together).

Locust monkey-patches the process it runs in (gevent), which would break the fake upstream's asyncio loop
and the targets' subprocess handling: it runs as a subprocess of its own, talking to the rest through files.
"""
