"""Background work: fire due timers (more jobs come with the worker issue).

Each item runs in its own transaction: one case per commit, and a failing
case is rolled back and logged without stopping the batch.
"""
