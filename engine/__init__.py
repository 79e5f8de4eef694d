"""Tovholder's core: definitions, cases, tasks, audit. Never imports api, workers or FastAPI."""
