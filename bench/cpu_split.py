"""Where the CPU of a bench window goes: the API server's processes, PostgreSQL's, the bench client's, the rest.

Role: rows h compare one API process with two on the same two cores that also
run PostgreSQL and the client threads. Whether two processes can be 1.6× one
there depends on how much CPU a completion costs outside the server; this
module reads it from /proc (Linux) so the table can say what ceiling the
machine puts on the ratio, next to the ratio measured.

`Split.take()` snapshots cumulative CPU seconds of: the process trees under the
given pids (the server), every process named `postgres` (the local database
server: its backends, WAL writer, checkpointer), this process (the client
threads; nothing else runs in it during a window), and the whole machine
(/proc/stat, so other sessions' load shows as "other"). Subtracting two
snapshots gives the window's split. Reads only; no transaction.
"""
from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of one process, or None if it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) ": state ppid ... utime stime (14, 15)
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _comm(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def _processes() -> dict[int, tuple[int, float]]:
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat:
                found[int(entry.name)] = stat
    return found


def _machine_seconds() -> float:
    """All CPU time the machine spent busy (user, nice, system, irq, softirq, steal), in seconds."""
    first = (PROC / "stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in first[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


@dataclass(frozen=True)
class Split:
    server: float
    postgres: float
    client: float
    machine: float
    # CPU seconds per PostgreSQL process at the snapshot: a window counts each process that is alive at its
    # end from its value at the start (or from 0, if it began during the window); one that ended during the
    # window (another session's backend) is left out rather than counted negative
    postgres_by_pid: tuple[tuple[int, float], ...] = ()

    @classmethod
    def take(cls, server_pids: list[int]) -> Split:
        procs = _processes()
        tree = set(server_pids)
        grew = True
        while grew:  # the server's children (uvicorn's worker processes, script workers) and theirs
            children = {pid for pid, (ppid, _) in procs.items() if ppid in tree} - tree
            tree |= children
            grew = bool(children)
        server = sum(procs[pid][1] for pid in tree if pid in procs)
        postgres = tuple((pid, cpu) for pid, (_, cpu) in procs.items() if _comm(pid) == "postgres")
        own = resource.getrusage(resource.RUSAGE_SELF)
        return cls(server, sum(cpu for _, cpu in postgres), own.ru_utime + own.ru_stime, _machine_seconds(),
                   postgres)

    def __sub__(self, other: Split) -> Split:
        before = dict(other.postgres_by_pid)
        postgres = sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in self.postgres_by_pid)
        return Split(self.server - other.server, postgres, self.client - other.client,
                     self.machine - other.machine)

    @property
    def other(self) -> float:
        """CPU the machine spent on neither: other sessions, the kernel's own work."""
        return max(0.0, self.machine - self.server - self.postgres - self.client)

    def per_completion_ms(self, n: int) -> dict[str, float]:
        return {name: 1000 * value / n for name, value in
                (("server", self.server), ("postgres", self.postgres), ("client", self.client),
                 ("other", self.other))}


def usable_cores() -> int:
    return len(os.sched_getaffinity(0))
