"""The HTTP edge: FastAPI app, JSON API under /api. Routes own the transaction (they commit)."""
