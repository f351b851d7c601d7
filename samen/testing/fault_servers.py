"""Fault-injecting local servers for reliability tests: a Sheets double and an SMTP server.

`FaultySheetsDouble` makes a share of calls slow (beyond the client's timeout, the change still
made) on top of the random error answers of a `CountingFaultPlan`, and counts both.
`FaultySmtpServer` adds to `LocalSmtpServer`'s refusals and drops: greylisting (450 for the first
n tries of an address), cutting the connection right after a message was accepted but before the
client heard so (the message is then in flight: the client sends it again), a delay per message,
and a hook that kills a client process (SIGKILL) at a chosen message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP

from samen.testing.sheets_double import FaultPlan, SheetsDouble
from samen.testing.sheets_model import Json
from samen.testing.smtp_server import LocalSmtpServer, _Handler


@dataclass
class CountingFaultPlan(FaultPlan):
    """A FaultPlan that counts the error answers it injected, by status."""

    injected: Counter[int] = field(default_factory=Counter)

    def draw(self, kind: str) -> int | None:
        """Return the status to fail this call with (and count it), or None."""
        status = super().draw(kind)
        if status is not None:
            self.injected[status] += 1
        return status


class FaultySheetsDouble(SheetsDouble):
    """A Sheets double whose calls are slow with probability `slow_rate` (counted in `slowed`)."""

    def __init__(self, *, slow_rate: float = 0.0, slow_seconds: float = 1.0, seed: int = 0) -> None:
        super().__init__()
        self.slow_rate = slow_rate
        self.slow_seconds = slow_seconds
        self.slowed: Counter[str] = Counter()
        self._slow_rng = random.Random(seed)

    def __enter__(self) -> FaultySheetsDouble:
        self.start()
        return self

    def serve(self, method: str, kind: str, key: str, target: str | None,
              params: dict[str, list[str]], body: Json) -> tuple[int, Json | bytes]:
        """Answer one call, late with probability slow_rate (the change is still made)."""
        if self.slow_rate and self._slow_rng.random() < self.slow_rate:
            self.slow_next(kind, self.slow_seconds)
            self.slowed[kind] += 1
        return super().serve(method, kind, key, target, params, body)


@dataclass
class Kill:
    """A planned SIGKILL of a client process at the k-th message the server sees (1-based).

    mode: "rcpt" kills when message k's recipient is announced (nothing of it arrived);
    "data" kills after message k arrived but before the client hears it was accepted (in flight);
    "after" kills `delay` seconds after the acceptance was sent (committed or not: a race).
    """

    pid: int
    at: int
    mode: str
    delay: float = 0.0
    fired: threading.Event = field(default_factory=threading.Event)
    in_flight: str = ""  # the Message-ID that may arrive twice because of this kill


class _FaultyHandler(_Handler):
    """The LocalSmtpServer hooks plus greylisting, cuts after DATA, a delay and kills."""

    owner: FaultySmtpServer

    async def handle_RCPT(self, server: SMTP, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        owner = self.owner
        with owner.lock:
            left = owner.greylist.get(address.lower(), 0)
            if left:
                owner.greylist[address.lower()] = left - 1
                owner.greylisted += 1
            elif address.lower() in owner.failing_recipients:
                owner.refused[owner.failing_recipients[address.lower()]] += 1
            number = len(owner.received) + 1
        owner.fire("rcpt", number, "")
        if left:
            return f"450 4.2.0 Greylisted, try again later {address}"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:  # noqa: N802
        owner = self.owner
        if owner.delay:
            await asyncio.sleep(owner.delay)  # other sessions go on meanwhile
        reply = await super().handle_DATA(server, session, envelope)
        with owner.lock:
            number = len(owner.received)
            message_id = str(owner.received[-1].message["Message-ID"])
            cut = (message_id not in owner.cut_ids
                   and owner.cut_rate > 0 and owner.rng.random() < owner.cut_rate)
            if cut:
                owner.cut_ids.append(message_id)
        owner.fire("data", number, message_id)
        if cut:
            assert server.transport is not None
            server.transport.abort()  # type: ignore[attr-defined]  # accepted, reply never sent
        owner.fire_later(number, message_id)
        return reply


class FaultySmtpServer(LocalSmtpServer):
    """A LocalSmtpServer with greylisting, cuts after DATA, a delay per message and kill hooks."""

    def __init__(self, *, greylist: Mapping[str, int] | None = None, cut_rate: float = 0.0,
                 delay: float = 0.0, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.greylist = {k.lower(): v for k, v in (greylist or {}).items()}
        self.greylisted = 0
        self.refused: Counter[int] = Counter()  # refusals of failing_recipients, by code
        self.cut_rate = cut_rate
        self.cut_ids: list[str] = []  # Message-IDs accepted on a connection cut before the reply
        self.delay = delay
        self.rng = random.Random(seed)
        self.kill: Kill | None = None

    def __enter__(self) -> FaultySmtpServer:
        self.start()
        return self

    def start(self) -> None:
        """Start listening; new connections use the fault-injecting hooks."""
        super().start()
        assert self._controller is not None
        self._controller.handler = _FaultyHandler(self)

    def arm(self, kill: Kill) -> None:
        """Kill a client process at a message (see Kill)."""
        with self.lock:
            self.kill = kill

    def disarm(self) -> Kill | None:
        """Forget the planned kill; return it."""
        with self.lock:
            kill, self.kill = self.kill, None
            return kill

    def fire(self, stage: str, number: int, message_id: str) -> None:
        """Kill the client now if the armed kill is for this stage of this message."""
        with self.lock:
            kill = self.kill
            if kill is None or kill.mode != stage or kill.at != number:
                return
            self.kill = None
        kill.in_flight = message_id
        _sigkill(kill)

    def fire_later(self, number: int, message_id: str) -> None:
        """Kill the client a moment after this message's acceptance, if so armed."""
        with self.lock:
            kill = self.kill
            if kill is None or kill.mode != "after" or kill.at != number:
                return
            self.kill = None
        kill.in_flight = message_id
        asyncio.get_running_loop().call_later(kill.delay, _sigkill, kill)

    def ids(self) -> Counter[str]:
        """Return how often each Message-ID arrived."""
        with self.lock:
            return Counter(str(r.message["Message-ID"]) for r in self.received)


def _sigkill(kill: Kill) -> None:
    if kill.pid <= 0:  # never 0 or -1: that would kill this process group or everything
        raise ValueError(f"refusing to kill pid {kill.pid}")
    with contextlib.suppress(ProcessLookupError):  # it may have ended by itself
        os.kill(kill.pid, signal.SIGKILL)
    kill.fired.set()


def wait_for(predicate: Any, timeout: float, interval: float = 0.002) -> bool:
    """Poll predicate() until it is true or timeout seconds passed; return its last value."""
    end = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > end:
            return bool(predicate())
        time.sleep(interval)
