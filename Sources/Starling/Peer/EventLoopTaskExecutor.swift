import NIOCore

/// A task executor that runs every job on one SwiftNIO event loop.
///
/// A peer runs the handlers of the requests it serves in tasks that prefer this
/// executor, so a handler starts on the peer's own loop as soon as the request arrives,
/// instead of waiting for a thread of Swift's shared cooperative pool: on a two-core
/// machine that pool has two threads, and an application (or a test process) that
/// keeps them busy would otherwise hold every answer back until the requester's
/// timeout. A handler that computes for long should move that work elsewhere, as any
/// code on an event loop should.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
