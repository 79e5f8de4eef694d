"""Background work: due timers (workers.timers) and further jobs registered with workers.loop.register_job.

Each item runs in its own transaction: one case per commit, and a failing
case is rolled back, its attempt counted, and the batch goes on.
"""
