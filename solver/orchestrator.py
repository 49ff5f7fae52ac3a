"""The orchestrator: one thread per server that replans automatic networks by themselves, so that a
published signal, a rejection or a lapsed escalation is answered without anyone calling Replan.

Per network it keeps at most one replan under way. Signals are coalesced: the first one opens a
window (`NetworkSettings.window_seconds`), and the replan that starts when it closes answers every
signal the inbox holds by then; signals that arrive while it runs go into the next one, which starts
as soon as it ends. So a burst of signals makes a bounded number of replans (one per window and
solve), never one per signal, and none is lost: the inbox is in the ledger, and a server that
restarts answers what no plan answered yet (`start` looks at every automatic network).

Several servers may share one ledger (PostgreSQL replicas): a network's orchestrator runs on one of
them at a time, the holder of its lease in the ledger (`PlanStore.acquire_lease`), renewed every
`LEASE_RENEW_SECONDS` for `LEASE_SECONDS`. Each server looks at the automatic networks as often:
it takes the lease of one with unanswered signals that nobody holds (a replica that died stops
renewing, so another takes over within `LEASE_SECONDS`), and answers signals another replica
received for a network it holds.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from models.errors import ConcertoError
from solver.automatic import AlwaysOn, now_utc
from solver.errors import NoPlan, QueueFull, SolveCancelled, StaleBaseline
from solver.records import DecisionState, StoredDecision
from solver.store import NotFound
from solver.usecases import PlanRun

log = logging.getLogger("concerto.orchestrator")

TICK_SECONDS = 0.1
"""How often the orchestrator looks at its networks when nothing wakes it."""
EXPIRY_CHECK_SECONDS = 1.0
"""How often pending escalations of automatic networks are checked against their windows."""
BUSY_RETRY_SECONDS = 0.5
"""How long a replan that found the worker queue full waits before it tries again."""
LEASE_SECONDS = 5.0
"""How long a network's orchestrator lease lasts unless renewed: how soon another replica takes over."""
LEASE_RENEW_SECONDS = 1.0
"""How often leases are renewed and automatic networks looked at for signals other replicas stored."""


@dataclass
class _Network:
    """What the orchestrator knows of one network."""

    due_at: float | None = None
    """Monotonic time the next replan may start (None: nothing to do)."""
    trigger: str = "inbox"
    run: PlanRun | None = None
    done: bool = False
    """The run's job ended; the orchestrator thread stores its result."""
    failed_seq: int = 0
    """The newest inbox seq a replan failed on (infeasible, a bad signal): the inbox signals up to it
    are not tried again until a newer one arrives."""
    answering: list[int] = field(default_factory=list)
    seen_seq: int = 0
    """The newest inbox seq this server has scheduled a replan for."""


class Orchestrator:
    """Replans automatic networks as their signals, rejections and lapses come (see the module)."""

    def __init__(self, always_on: AlwaysOn, *, holder: str | None = None) -> None:
        self.always_on = always_on
        self.store = always_on.store
        self.holder = holder or f"server-{uuid.uuid4().hex[:12]}"
        """This server's name on the leases it holds."""
        self.held: set[str] = set()
        """Networks whose lease this server holds."""
        self._next_lease_check = 0.0
        self._networks: dict[str, _Network] = {}
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="concerto-orchestrator", daemon=True)
        self._next_expiry_check = 0.0
        self.replans_started = 0
        """Automatic replans started since the server started (tests and benchmarks read it)."""

    # -- what wakes it ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread; its first look at the leases answers whatever automatic networks left
        unanswered (a restart, or a replica that died)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop replanning: cancel the replans under way and give the leases up, so another replica
        takes the networks over at once."""
        with self._wake:
            self._stopped = True
            runs = [n.run for n in self._networks.values() if n.run is not None]
            self._wake.notify_all()
        for run in runs:
            if run.handle is not None:
                run.handle.cancel()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        for network_id in sorted(self.held):
            try:
                self.store.release_lease(network_id, self.holder)
            except ConcertoError as err:
                log.warning("lease of %s not released: %s", network_id, err)
        self.held.clear()

    def notify(self, network_id: str, trigger: str = "inbox") -> None:
        """Something for the network: signals (the coalescing window opens, unless one is open or a
        replan runs), or a rejection or lapse (replan as soon as nothing runs)."""
        if not self._automatic(network_id):
            return
        with self._wake:
            state = self._networks.setdefault(network_id, _Network())
            now = time.monotonic()
            if trigger != "inbox":
                state.trigger = trigger
                state.due_at = now
            elif state.due_at is None:
                window = self.always_on.settings(network_id)[0].window_seconds
                state.due_at = now + window
            self._wake.notify_all()

    def on_decided(self, decision: StoredDecision) -> None:
        """A rejection replans the network within the remaining authority (automatic networks)."""
        if decision.state == DecisionState.REJECTED:
            self.notify(decision.network_id, "rejection")

    def _automatic(self, network_id: str) -> bool:
        record = self.store.get_settings(network_id)
        return record is not None and record.automatic

    # -- the thread ---------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._wake:
                if self._stopped:
                    return
                self._wake.wait(TICK_SECONDS)
                if self._stopped:
                    return
                now = time.monotonic()
                finished = [(nid, s) for nid, s in self._networks.items() if s.run is not None and s.done]
                due = [
                    nid
                    for nid, s in self._networks.items()
                    if s.run is None and s.due_at is not None and s.due_at <= now
                ]
            for network_id, state in finished:
                self._finish(network_id, state)
            if now >= self._next_lease_check:
                self._next_lease_check = now + LEASE_RENEW_SECONDS
                self._check_leases()
            for network_id in due:
                self._launch(network_id)
            if now >= self._next_expiry_check:
                self._next_expiry_check = now + EXPIRY_CHECK_SECONDS
                self._check_expiries()

    def _check_leases(self) -> None:
        """Renew the leases held, take those of automatic networks with unanswered signals that no
        live replica holds, and schedule signals other replicas stored for networks held here."""
        try:
            automatic = set(self.store.automatic_networks())
        except ConcertoError as err:
            log.warning("automatic networks not read: %s", err)
            return
        for network_id in sorted(self.held - automatic):
            self.store.release_lease(network_id, self.holder)
            self.held.discard(network_id)
        for network_id in sorted(automatic):
            try:
                open_rows = self.store.inbox(network_id, open_only=True)
                if network_id not in self.held and not open_rows and not self._escalations_waiting(network_id):
                    continue  # nothing to answer or to let lapse: leave the lease to whoever has work
                if not self.store.acquire_lease(network_id, self.holder, LEASE_SECONDS):
                    self.held.discard(network_id)
                    continue
            except ConcertoError as err:
                log.warning("lease of %s: %s", network_id, err)
                continue
            taken = network_id not in self.held
            self.held.add(network_id)
            newest = max((r.seq for r in open_rows), default=0)
            with self._wake:
                state = self._networks.setdefault(network_id, _Network())
                fresh = newest > max(state.seen_seq, state.failed_seq)
                idle = state.run is None and state.due_at is None
            if fresh and idle:
                # Signals another replica stored, or left unanswered when it died (or this server
                # did, before a restart): their window runs from when the first of them arrived, so
                # those that waited already are answered at once.
                waiting = [r for r in open_rows if r.seq > max(state.seen_seq, state.failed_seq)]
                window = self.always_on.settings(network_id)[0].window_seconds
                opened = min(r.received_at for r in waiting) + timedelta(seconds=window)
                self._retry(network_id, "inbox", max(0.0, (opened - now_utc()).total_seconds()))
            if taken:
                log.info("network %s: this server (%s) now runs its orchestrator", network_id, self.holder)

    def _escalations_waiting(self, network_id: str) -> bool:
        """Whether the network's latest plan version has decisions waiting for approval (whose
        windows the lease holder watches): the pending rows alone, never the plan, are read."""
        if self.store.latest_plan_version(network_id) == 0:
            return False
        return bool(self.store.list_decisions(network_id, 0, DecisionState.PENDING))

    def _launch(self, network_id: str) -> None:
        with self._wake:
            state = self._networks[network_id]
            trigger, state.due_at, state.trigger = state.trigger, None, "inbox"
        if not self.store.acquire_lease(network_id, self.holder, LEASE_SECONDS):
            self.held.discard(network_id)
            return  # another replica runs this network's orchestrator; it sees these signals too
        self.held.add(network_id)
        try:
            open_rows = self.store.inbox(network_id, open_only=True)
            newest = max((r.seq for r in open_rows), default=0)
            if trigger == "inbox" and newest <= state.failed_seq:
                return  # nothing new since the last failure
            started = self.always_on.start_automatic(network_id, trigger)
        except QueueFull:
            self._retry(network_id, trigger, BUSY_RETRY_SECONDS)
            return
        except StaleBaseline:
            self._retry(network_id, trigger, 0.0)
            return
        except NotFound as err:
            log.warning("automatic replan of %s: %s", network_id, err)
            return
        except ConcertoError as err:
            state.failed_seq = newest
            log.warning("automatic replan of %s refused: %s", network_id, err)
            return
        if started is None:
            return
        run, seqs = started
        self.replans_started += 1
        with self._wake:
            state.run, state.done, state.answering = run, False, seqs
            state.seen_seq = max(seqs, default=state.seen_seq)
        assert run.handle is not None

        def done(_: object) -> None:
            with self._wake:
                state.done = True
                self._wake.notify_all()

        run.handle.add_done_callback(done)

    def _finish(self, network_id: str, state: _Network) -> None:
        """Store the ended run's final plan, then go on with what arrived meanwhile."""
        run = state.run
        assert run is not None and run.handle is not None
        handle = run.handle
        try:
            stored = run.finish_with(lambda: handle.result(timeout=0))
            log.info("network %s: automatic plan version %d stored", network_id, stored.version)
        except StaleBaseline:
            self._retry(network_id, "inbox", 0.0)
        except (NoPlan, ConcertoError) as err:
            if not isinstance(err, SolveCancelled) or not self._stopped:
                state.failed_seq = max(state.answering, default=state.failed_seq)
                log.warning("automatic replan of %s ended without a plan: %s", network_id, err)
        except Exception:
            log.exception("automatic replan of %s failed", network_id)
            state.failed_seq = max(state.answering, default=state.failed_seq)
        with self._wake:
            state.run, state.done = None, False
        newest = max((r.seq for r in self.store.inbox(network_id, open_only=True)), default=0)
        if newest > state.failed_seq:
            self._retry(network_id, "inbox", 0.0)  # what arrived while it ran has waited already

    def _retry(self, network_id: str, trigger: str, after: float) -> None:
        with self._wake:
            state = self._networks.setdefault(network_id, _Network())
            due = time.monotonic() + after
            state.due_at = due if state.due_at is None else min(state.due_at, due)
            if trigger != "inbox":
                state.trigger = trigger
            self._wake.notify_all()

    def _check_expiries(self) -> None:
        now = now_utc()
        for network_id in sorted(self.held):
            try:
                for due in self.always_on.due_expiries(network_id, now):
                    if self.always_on.expire(due):
                        log.info("network %s: escalation %s lapsed", network_id, due.escalation)
                        self.notify(network_id, "expiry")
            except ConcertoError as err:
                log.warning("expiry check of %s: %s", network_id, err)
