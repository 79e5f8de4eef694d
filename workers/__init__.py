"""Background work: due timers, deadlines, service tasks and the outbox (workers.jobs), run by workers.loop.

Each item runs in its own transaction: one case per commit, and a failing
case is rolled back, its attempt counted, and the batch goes on.
"""
