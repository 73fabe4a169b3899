import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A process group whose members all end when its owner does, however the owner ends.
///
/// A test process that crashes (or is killed) used to leave its children running: servers
/// retrying a database that was gone, a browser, `hipkit dev`, each taking CPU from whatever ran
/// next. Linux's parent-death signal (`PR_SET_PDEATHSIG`) cannot be set through `posix_spawn`,
/// and it follows the *thread* that started the child — a pool thread that ends would take its
/// children with it. So the group has a leader of its own instead: a shell that reads a pipe
/// whose only writer is the owner, and kills the whole group when the read ends. The kernel
/// closes the writer when the owner ends in any way, a crash or `SIGKILL` included.
public final class ChildGroup: Sendable {
    /// The group of this test process's children; nil if its leader could not be started (the
    /// children then run in the test process's own group, as any child would).
    public static let ofThisProcess: ChildGroup? = try? ChildGroup()

    /// The leader's process id, which is the group's id.
    public let leader: pid_t
    private let writer: Int32

    /// Starts a leader in a group of its own.
    public init() throws {
        var ends: [Int32] = [-1, -1]
        // Close-on-exec from the start: no other child may hold the writer, or the group would
        // outlive the owner until that child ended too.
        guard systemPipe2(&ends, O_CLOEXEC) == 0 else { throw ChildProcess.failure("pipe2", errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        spawnCloseFrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Process group 0: a new group, led by the child.
        posix_spawnattr_setpgroup(&attributes, 0)
        ChildProcess.resetSignals(&attributes, flags: POSIX_SPAWN_SETPGROUP)
        // `read` ends at end of file, which is the owner's end; `kill 0` is the whole group, the
        // leader last of all.
        let words: [String] = ["/bin/sh", "-c", "read line; kill -KILL 0"]
        let argv = words.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        close(ends[0])
        guard result == 0 else {
            close(ends[1])
            throw ChildProcess.failure("cannot start a process group's leader", result)
        }
        leader = pid
        writer = ends[1]
    }

    /// Ends every process of the group now, as the owner's end would: for a test of the group,
    /// or an owner done with it. The leader is reaped (it is the owner's child).
    public func end() {
        close(writer)
        var status: Int32 = 0
        while waitpid(leader, &status, 0) < 0 && errno == EINTR {}
    }
}

/// glibc's `pipe2`, which its Swift module does not show.
@_silgen_name("pipe2")
private func systemPipe2(_ ends: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32
