import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process of a test: started with `posix_spawn` with nothing of the test process but
/// its standard streams, and waited for with `waitpid`.
///
/// Not Foundation's `Process`, for two reasons seen as a test run that never ended. `Process`
/// learns that a child has ended when a socket the child inherited closes; the child closes
/// every other descriptor from a list made just before it starts, so a socket or pipe that
/// another test opened at that moment goes to the child too. A long-lived child (`hipkit dev`,
/// a server, a browser) that took another child's socket so keeps that one "running" until it
/// ends itself, and a `waitUntilExit()` for it on the concurrency pool's thread waits that long:
/// with both of the pool's threads waiting so, the tests that would end those long-lived
/// children never run again. Here the child closes everything from descriptor 3 up as it
/// starts (`posix_spawn_file_actions_addclosefrom_np`), and its end is asked of the kernel.
///
/// Every child is a member of ``ChildGroup/ofThisProcess``: when the test process crashes, its
/// children end too.
public final class ChildProcess: @unchecked Sendable {  // `state` is guarded by `lock`
    /// Where a standard stream of the child goes.
    public enum Output {
        case null
        /// The file at this path, created or emptied.
        case file(URL)
        /// Standard error only: wherever standard output goes.
        case standardOutput
    }

    public enum Input {
        case null
        /// A pipe whose writing end is ``standardInputWriter``; closing it is end of input.
        case pipe
    }

    public enum TerminationReason: Equatable {
        case exit
        case uncaughtSignal
    }

    public let processIdentifier: pid_t
    /// The writing end of the child's standard input, with ``Input/pipe``.
    public let standardInputWriter: FileHandle?

    private let lock = NSLock()
    /// The status `waitpid` gave, once the child has ended and been reaped.
    private var status: Int32?

    /// Starts `executable` with `arguments`; `environment` nil is the test process's own. The
    /// child is a member of `group`, and so ends when the test process does.
    public init(
        _ executable: URL, _ arguments: [String], environment: [String: String]? = nil, directory: URL? = nil,
        standardInput: Input = .null, standardOutput: Output = .null, standardError: Output = .null,
        group: ChildGroup? = .ofThisProcess
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }

        var inputPipe: [Int32] = [-1, -1]
        switch standardInput {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .pipe:
            guard pipe(&inputPipe) == 0 else { throw Self.failure("pipe", errno) }
            // Only this child's copy (at 0) is kept across its exec; every other child closes
            // both ends anyway (`addclosefrom`).
            for fd in inputPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        }
        func add(_ output: Output, as fd: Int32) {
            switch output {
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .file(let url):
                posix_spawn_file_actions_addopen(&actions, fd, url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .standardOutput: posix_spawn_file_actions_adddup2(&actions, 1, fd)
            }
        }
        add(standardOutput, as: 1)
        add(standardError, as: 2)
        if let directory { spawnChangeDirectory(&actions, directory.path) }
        // Nothing else of the test process: see the type's comment.
        spawnCloseFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if let group {
            posix_spawnattr_setpgroup(&attributes, group.leader)
            Self.resetSignals(&attributes, flags: POSIX_SPAWN_SETPGROUP)
        } else {
            Self.resetSignals(&attributes, flags: 0)
        }

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in envp ?? [] { free(pointer) } }

        var pid: pid_t = 0
        let result =
            if let envp {
                posix_spawn(&pid, executable.path, &actions, &attributes, argv, envp)
            } else {
                posix_spawn(&pid, executable.path, &actions, &attributes, argv, environ)
            }
        if inputPipe[0] >= 0 { close(inputPipe[0]) }
        guard result == 0 else {
            if inputPipe[1] >= 0 { close(inputPipe[1]) }
            throw Self.failure("cannot run \(executable.path)", result)
        }
        processIdentifier = pid
        standardInputWriter =
            inputPipe[1] >= 0 ? FileHandle(fileDescriptor: inputPipe[1], closeOnDealloc: true) : nil
    }

    /// A child left running when the test is done with it is reaped by a thread of its own, so
    /// that no zombie outlives it.
    deinit {
        guard lock.withLock({ status == nil }) else { return }
        let pid = processIdentifier
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }

    public var isRunning: Bool { reap(blocking: false) == nil }

    /// Blocks until the child has ended. Not for the concurrency pool: see ``Blocking``.
    public func waitUntilExit() {
        _ = reap(blocking: true)
    }

    /// Waits up to `timeout` seconds; whether the child ended.
    public func wait(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    /// The exit status, or the number of the signal that ended it (as Foundation's `Process`).
    public var terminationStatus: Int32 {
        guard let status = lock.withLock({ status }) else { preconditionFailure("the child is still running") }
        return Self.signalled(status) ? status & 0x7f : (status >> 8) & 0xff
    }

    public var terminationReason: TerminationReason {
        guard let status = lock.withLock({ status }) else { preconditionFailure("the child is still running") }
        return Self.signalled(status) ? .uncaughtSignal : .exit
    }

    public func signal(_ number: Int32) {
        if isRunning { kill(processIdentifier, number) }
    }

    public func terminate() { signal(SIGTERM) }

    /// The status once reaped; with `blocking`, waits for it. Polls rather than blocking in
    /// `waitpid`, so that a waiting thread and one asking ``isRunning`` never race to reap.
    private func reap(blocking: Bool) -> Int32? {
        while true {
            let reaped: Int32? = lock.withLock {
                if let status { return status }
                var raw: Int32 = 0
                let result = waitpid(processIdentifier, &raw, WNOHANG)
                if result == processIdentifier { status = raw }
                // Reaped elsewhere (it cannot be, as nothing else waits for it): taken as ended.
                if result < 0 && errno == ECHILD { status = 0 }
                return status
            }
            if let reaped { return reaped }
            if !blocking { return nil }
            usleep(5_000)
        }
    }

    private static func signalled(_ status: Int32) -> Bool {
        let low = status & 0x7f
        return low != 0 && low != 0x7f
    }

    /// Sets `attributes` so that signals the test process ignores or blocks are not the child's
    /// business, with `flags` besides.
    static func resetSignals(_ attributes: inout posix_spawnattr_t, flags: Int32) {
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | flags))
    }

    static func failure(_ what: String, _ code: Int32) -> any Error {
        NSError(
            domain: NSPOSIXErrorDomain, code: Int(code),
            userInfo: [NSLocalizedDescriptionKey: "\(what): \(String(cString: strerror(code)))"])
    }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which its Swift module
/// does not show.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
@discardableResult
public func spawnCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32

/// glibc's `posix_spawn_file_actions_addchdir_np` (2.29 and later), likewise.
@_silgen_name("posix_spawn_file_actions_addchdir_np")
@discardableResult
private func spawnChangeDirectory(
    _ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>
)
    -> Int32
