"""The scheduled jobs (scheduler.md §5), one module per job.

Each job module exposes ``iteration(svc, now)``: one pass of the job, with ``now``
injected so tests can place data around the selection windows. It returns the counts
the scheduler logs and records. :mod:`duo.jobs.registry` lists what runs, in the
spec's order; :mod:`duo.actors.scheduler` runs them on the one leader process.
"""
