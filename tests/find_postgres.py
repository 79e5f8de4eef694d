"""Print the URL of a PostgreSQL server for the test suite, or nothing (reason on stderr).

Tries 127.0.0.1:5432, database `test`, as `postgres` and as the current user.
"""
import getpass
import sys

import psycopg


def find() -> str | None:
    for user in dict.fromkeys(["postgres", getpass.getuser()]):
        try:
            with psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user=user, connect_timeout=3):
                return f"postgresql+psycopg://{user}@127.0.0.1:5432/test"
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"postgres as {user}: {reason}", file=sys.stderr)
    return None


if __name__ == "__main__":
    url = find()
    if url:
        print(url)
