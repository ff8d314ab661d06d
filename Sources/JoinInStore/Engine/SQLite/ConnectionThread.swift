import Foundation
import Synchronization

/// A thread of its own that runs Swift tasks preferring it (`withTaskExecutorPreference`,
/// `Task(executorPreference:)`). Each SQLite connection has one: a write batch or a read
/// transaction hops onto the connection's thread once and then runs every statement there, as
/// plain synchronous calls into libsqlite3, instead of a thread hand-off per statement.
///
/// Blocking work (an fsync at COMMIT, a page read) then blocks this thread, never one of the few
/// threads of Swift's cooperative pool that serve every request.
final class ConnectionThread: TaskExecutor, Sendable {
    private struct Queue {
        var jobs: [UnownedJob] = []
        var stopping = false
        var exited = false
    }

    private let queue = Mutex(Queue())
    /// Wakes the thread when `queue` gains a job or is told to stop (NSCondition pairs a mutex
    /// with the condition; it only guards the sleep, `queue` holds the state).
    private let wakeUp = NSConditionBox()
    let name: String

    init(name: String) {
        self.name = name
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let runHere = queue.withLock { queue -> Bool in
            if queue.exited { return true }
            queue.jobs.append(job)
            return false
        }
        if runHere {
            // Only after `stop()`: nothing may wait for ever, so the job runs on the caller.
            job.runSynchronously(on: asUnownedTaskExecutor())
            return
        }
        wakeUp.signal()
    }

    /// Lets the thread finish what it was given and end.
    func stop() {
        queue.withLock { $0.stopping = true }
        wakeUp.signal()
    }

    private func loop() {
        var batch: [UnownedJob] = []
        while true {
            let stop = queue.withLock { queue -> Bool in
                swap(&batch, &queue.jobs)
                if batch.isEmpty && queue.stopping {
                    queue.exited = true
                    return true
                }
                return false
            }
            if stop { return }
            if batch.isEmpty {
                wakeUp.wait { self.queue.withLock { !$0.jobs.isEmpty || $0.stopping } }
                continue
            }
            for job in batch {
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}

/// A condition variable for one sleeper: `wait` re-checks `ready` under the condition's lock, and
/// `signal` takes the same lock, so a signal between the check and the sleep is never lost.
final class NSConditionBox: Sendable {
    private let condition = NSCondition()

    func wait(until ready: () -> Bool) {
        condition.lock()
        while !ready() { condition.wait() }
        condition.unlock()
    }

    func signal() {
        condition.lock()
        condition.signal()
        condition.unlock()
    }
}
