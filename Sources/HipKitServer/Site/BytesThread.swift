import Foundation

/// A thread of its own for reading and compressing the files a snapshot holds in memory
/// (``StaticFile/read(file:relativePath:)``, a batch of files at a time from ``SiteLoader``):
/// the thread that asks waits for the result.
///
/// Why: glibc gives each thread a heap of its own. Read where the rest of a file's
/// ``StaticFile`` is made, each file's transient buffers (its bytes, the compressor's state
/// and output, tens of kilobytes) lay between the small strings and headers that stay, and
/// once the bytes were packed (``PackedBytes``) those left about 5 MB of pages of that heap
/// in use on the bench's 1,000-page site, mostly empty. Here the buffers come from this
/// thread's heap, which is all free once the bytes are packed and goes back to the kernel.
final class BytesThread: @unchecked Sendable {  // `job` and `done` are guarded by `condition`
    static let shared = BytesThread()

    private let condition = NSCondition()
    private var job: (() -> Void)?
    private var done = false
    /// The thread's own identity, once it runs (for tests).
    private(set) var threadID = pthread_t()

    private init() {
        let thread = Thread { [unowned self] in self.serve() }
        thread.name = "hipkit-bytes"
        thread.start()
    }

    /// `body`'s result, worked out on this thread. One caller at a time is served; others wait.
    func run<T>(_ body: () throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            var result: Result<T, any Error>?
            condition.lock()
            while job != nil { condition.wait() }
            job = { result = Result { try body() } }
            done = false
            condition.broadcast()
            while !done { condition.wait() }
            job = nil
            condition.broadcast()
            condition.unlock()
            return try result!.get()
        }
    }

    private func serve() {
        condition.lock()
        threadID = pthread_self()
        while true {
            while job == nil || done { condition.wait() }
            let work = job!
            condition.unlock()
            work()
            condition.lock()
            done = true
            condition.broadcast()
        }
    }
}
