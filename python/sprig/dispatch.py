"""Task routing inside a manager: the queue of tasks from the interchange, giving them to the
least loaded workers that can start them soon (at most one beside the one each runs, none while
that one is long, recalling what a busy worker holds unstarted), what a worker's result entries
mean (STARTED, SKIPPED, results to forward), KILL_TASK, and the fate of a dead worker's tasks
(the running one WORKER_LOST, the others re-queued in order). PROTOCOL.md has the rules.

:class:`Dispatcher` is the half of :class:`sprig.manager.Manager` that owns tasks; it never
unpickles anything: it forwards the byte ranges it received.
"""

from __future__ import annotations

import json
import logging
from collections import deque

from sprig import process_tree
from sprig import protocol as P
from sprig.worker_pool import MAX_STARTUP_FAILURES, WorkerPool
from sprig.worker_slot import WorkerSlot

log = logging.getLogger("sprig.manager")

EXIT_WORKERS = 4  # the manager's exit status when workers keep dying before they are ready
QUICK_GRACE = 0.25  # seconds workers get to stop after end of input, a refusal or a signal

# When a worker counts as busy with a long task: its running task has run for more than
# SLOW_FACTOR times the block's recent average task time, at least SLOW_FLOOR and at most
# SLOW_CAP seconds (SLOW_CAP before any task has finished). A busy worker gets no task beyond the
# one it runs, and the tasks it holds unstarted are recalled.
SLOW_CAP = 0.05
SLOW_FLOOR = 0.002
SLOW_FACTOR = 10.0
# Tasks a worker may hold beside the one it runs: one, or --prefetch while the block's tasks
# average under DEEP_BELOW seconds, where the round trip to the manager (~0.1 ms) dominates and a
# single task ahead costs ~30% of the no-op throughput on a 2-core machine. Both are recalled
# once the worker turns busy.
MAX_AHEAD = 1
DEEP_BELOW = 0.001
AVERAGE_WEIGHT = 0.1  # weight of the newest task in the running average of task times


class Dispatcher(WorkerPool):
    """Tasks between the interchange link and the worker pool."""

    host: str

    def init_dispatch(self) -> None:
        self.queue: deque[P.TaskRecord] = deque()
        self.fn_cache: dict[int, bytes] = {}
        self.results: list[P.Buffer] = []
        self.result_count = 0
        self.result_bytes = 0
        self.killed: set[int] = set()  # killed by the interchange while on a worker
        self.recalled_tasks: list[P.TaskRecord] = []  # given back by workers, to queue first again
        self.average_task: float | None = None  # seconds, STARTED to result, recent tasks
        self.now = 0.0  # set by the event loop before it handles a round of events
        self.next_recall: float | None = None  # when a worker holding unstarted tasks turns busy

    def stop(self, reason: str, code: int, grace: float) -> None:
        raise NotImplementedError

    def on_tasks(self, body: memoryview) -> None:
        if self.handoff is not None:
            # Two-hop path: the engine writes tasks to the workers it was handed, never here.
            for task in P.parse_tasks(body):
                self.fail_now(task.task_id, f"task {task.task_id}: this manager hands its workers to the engine "
                              "(--worker-socket) and runs no tasks it is sent")
            return
        for task in P.parse_tasks(body):
            key = task.fn_key
            if len(task.fn):
                if key not in self.fn_cache:
                    self.fn_cache[key] = bytes(task.fn)
            elif task.kind != P.KIND_BASH and key not in self.fn_cache:
                self.fail_now(task.task_id, f"task {task.task_id}: function key {key} was never sent to this manager")
                continue
            self.queue.append(task)
        if self.options.worker_debug:
            log.debug("queued tasks; %d waiting", len(self.queue))

    def fail_now(self, task_id: int, message: str) -> None:
        info = {"kind": "serialization", "type": "KeyError", "message": message, "traceback": ""}
        self.add_result(task_id, P.STATUS_FAILED, json.dumps(info).encode("utf-8"))

    def add_result(self, task_id: int, status: int, data: bytes) -> None:
        pieces = P.result_pieces(task_id, status, data)
        self.results.extend(pieces)
        self.result_count += 1
        self.result_bytes += P.RESULT_HEAD.size + len(data)

    def busy_after(self) -> float:
        """Seconds after which a running task makes its worker busy (see SLOW_CAP)."""
        if self.average_task is None:
            return SLOW_CAP
        return max(SLOW_FLOOR, min(SLOW_CAP, SLOW_FACTOR * self.average_task))

    def ahead(self) -> int:
        """Tasks a worker that is not busy may hold beside the one it runs (see MAX_AHEAD)."""
        average = self.average_task
        return self.options.prefetch if average is not None and average < DEEP_BELOW else MAX_AHEAD

    def dispatch(self) -> None:
        """Moves queued tasks to the least loaded workers that can start them soon, one TASKS
        frame per worker: a worker holds at most :meth:`ahead` tasks beside the one it runs, and
        none while that one is long; then recalls unstarted tasks from busy workers."""
        if self.recalled_tasks:
            self.queue.extendleft(reversed(self.recalled_tasks))
            self.recalled_tasks = []
        if self.queue:
            now = self.now
            busy_after = self.busy_after()
            ahead = 1 + min(self.options.prefetch, self.ahead())
            room: dict[WorkerSlot, int] = {}
            for slot in self.slots:
                if slot is None or not slot.accepting:
                    continue
                busy = slot.running is not None and now - slot.started_at > busy_after
                limit = 1 if busy else ahead
                if len(slot.inflight) < limit:
                    room[slot] = limit
            batches: dict[WorkerSlot, list[P.TaskRecord]] = {}
            while self.queue and room:
                slot = min(room, key=lambda s: len(s.inflight))
                task = self.queue.popleft()
                slot.inflight.append(task)
                batches.setdefault(slot, []).append(task)
                if len(slot.inflight) >= room[slot]:
                    del room[slot]
            for slot, tasks in batches.items():
                self.send_tasks(slot, tasks)
        self.recall_from_busy()

    def recall_from_busy(self) -> None:
        """Sends RECALL to each worker whose running task has made it busy while it holds tasks it
        has not started (once per running task); sets when the next one may turn busy."""
        now = self.now
        busy_after = self.busy_after()
        due: float | None = None
        for slot in self.slots:
            if slot is None or not slot.accepting or slot.running is None or len(slot.inflight) < 2:
                continue
            if slot.recalled == slot.running:
                continue
            at = slot.started_at + busy_after
            if now >= at:
                log.debug("worker %d is busy with task %d: recalling its other tasks", slot.index, slot.running)
                slot.recalled = slot.running
                slot.out.append(P.frame(P.RECALL))
                self.flush_worker(slot)
            elif due is None or at < due:
                due = at
        self.next_recall = due

    def send_tasks(self, slot: WorkerSlot, tasks: list[P.TaskRecord]) -> None:
        pieces: list[P.Buffer] = [b"", P.U32.pack(len(tasks))]
        total = 4
        for task in tasks:
            fn: bytes = b""
            if task.kind != P.KIND_BASH and task.fn_key not in slot.known_fns:
                fn = self.fn_cache.get(task.fn_key, b"")
                slot.known_fns.add(task.fn_key)
            head = P.TASK_HEAD.pack(task.task_id, task.kind, task.fn_key, len(fn))
            pieces.append(head)
            if fn:
                pieces.append(fn)
            pieces.append(task.rest)
            total += len(head) + len(fn) + len(task.rest)
        pieces[0] = P.frame_header(P.TASKS, total)
        slot.out.extend(pieces)
        if self.options.worker_debug:
            log.debug("sent %d tasks to worker %d", len(tasks), slot.index)
        self.flush_worker(slot)

    def on_result(self, slot: WorkerSlot, result: P.ResultRecord) -> None:
        """One entry from a worker: STARTED, RESOURCE, SKIPPED, or a result to forward."""
        task_id = result.task_id
        if result.status == P.STATUS_STARTED:
            slot.running = task_id
            slot.started_at = self.now
            if task_id in self.killed:
                log.info("worker %d started task %d, which was killed; killing the worker", slot.index, task_id)
                self.kill_worker(slot)
            else:
                # Forwarded: the interchange counts walltimes, and tells running from queued, from here.
                self.results.append(result.raw)
                self.result_count += 1
                self.result_bytes += len(result.raw)
            return
        if result.status == P.STATUS_RESOURCE:  # a sample of the running task: forwarded as it is
            if task_id not in self.killed:
                self.results.append(result.raw)
                self.result_count += 1
                self.result_bytes += len(result.raw)
            return
        if slot.running == task_id:
            slot.running = None
            took = self.now - slot.started_at
            average = self.average_task
            self.average_task = took if average is None else average + AVERAGE_WEIGHT * (took - average)
        inflight = slot.inflight
        if inflight and inflight[0].task_id == task_id:
            task = inflight.popleft()
        else:
            for position, task in enumerate(inflight):
                if task.task_id == task_id:
                    del inflight[position]
                    break
            else:
                log.warning("worker %d reported task %d, which it was not given", slot.index, task_id)
                return
        if task_id in self.killed:
            self.killed.discard(task_id)
            return
        if result.status == P.STATUS_SKIPPED:
            return
        if result.status == P.STATUS_RECALLED:
            self.recalled_tasks.append(task)
            return
        self.results.append(result.raw)
        self.result_count += 1
        self.result_bytes += len(result.raw)

    def kill_task(self, task_id: int) -> None:
        """KILL_TASK: drop it from the queue, or kill the worker that runs it, or have its worker
        skip it when it is only prefetched there."""
        for position, task in enumerate(self.queue):
            if task.task_id == task_id:
                del self.queue[position]
                log.info("killed task %d while queued", task_id)
                self.stats_due = True
                return
        for slot in self.slots:
            if slot is None or slot.status is not None:
                continue
            for task in slot.inflight:
                if task.task_id != task_id:
                    continue
                self.killed.add(task_id)
                self.stats_due = True
                if slot.running == task_id:
                    log.info("killing worker %d (pid %d), which runs killed task %d", slot.index, slot.pid, task_id)
                    self.kill_worker(slot)
                else:
                    log.info("worker %d will skip killed task %d", slot.index, task_id)
                    slot.out.append(P.frame(P.KILL_TASK, P.U64.pack(task_id)))
                    self.flush_worker(slot)
                return
        log.debug("KILL_TASK for task %d, which is not here (finished or unknown)", task_id)

    def on_death(self, slot: WorkerSlot) -> None:
        """A worker ended: report the task it ran as lost, requeue the others, replace it."""
        self._close_reader(slot)
        self._close_writer(slot)
        if self.slots[slot.index] is slot:
            self.slots[slot.index] = None
        self.stats_due = True
        if self.stopping:
            return
        number, code, words = process_tree.describe_status(slot.status)
        log.log(
            logging.INFO if slot.killing else logging.WARNING,
            "worker %d (pid %d) %s with %d tasks in flight",
            slot.index,
            slot.pid,
            words,
            len(slot.inflight),
        )
        if slot.handed and self.handoff is not None:
            # Two-hop path: the engine holds its tasks and decides their fate (PROTOCOL.md).
            self.handoff.ended(slot.index, slot.pid, number, code, words, slot.lost_reason)
        inflight = slot.inflight
        running = next((task for task in inflight if task.task_id == slot.running), None)
        if running is not None:
            inflight.remove(running)
            if running.task_id in self.killed:
                self.killed.discard(running.task_id)
            elif slot.killing and slot.lost_reason is None:
                # Killed for another task that had just finished: this one had only begun.
                log.info("task %d was interrupted by the kill of worker %d; re-queued", running.task_id, slot.index)
                inflight.appendleft(running)
            else:
                if slot.lost_reason is not None:
                    words = f"{slot.lost_reason} and was killed (signal {number})"
                message = (
                    f"worker {slot.index} (pid {slot.pid}) on host {self.host} {words} while running task {running.task_id}"
                )
                info = {"message": message, "worker": slot.index, "pid": slot.pid, "signal": number, "exit_code": code}
                self.add_result(running.task_id, P.STATUS_WORKER_LOST, json.dumps(info).encode("utf-8"))
        for task in reversed(inflight):
            if task.task_id in self.killed:
                self.killed.discard(task.task_id)
            else:
                self.queue.appendleft(task)
        inflight.clear()
        if not slot.ready and not slot.killing:
            self.startup_failures += 1
            if self.startup_failures >= MAX_STARTUP_FAILURES:
                log.error("%d workers in a row died before they were ready; giving up", self.startup_failures)
                self.stop("workers cannot start", EXIT_WORKERS, QUICK_GRACE)
                return
        self.to_spawn.append(slot.index)
