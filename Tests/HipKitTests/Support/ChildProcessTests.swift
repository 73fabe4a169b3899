import Foundation
import TestProcesses
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The test processes' children: nothing of the test process leaks into them, and the end of
/// one is seen whatever the others do.
@Suite(.timeLimit(.minutes(1)))
struct ChildProcessTests {
    @Test func aChildHoldsNothingOfTheTestProcessButItsStandardStreams() async throws {
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)  // inheritable, as Foundation's pipes and sockets are
        defer { for fd in ends { close(fd) } }
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(ends[1])")
        let script = """
            import os, sys
            try:
                print("held" if os.readlink(f"/proc/self/fd/{sys.argv[1]}") == sys.argv[2] else "other")
            except OSError:
                print("closed")
            """
        let run = try await Blocking.run {
            try TestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, "\(ends[1])", link])
        }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "closed\n")
    }

    @Test func theEndOfAChildIsSeenWhileALongLivedOneRuns() async throws {
        let longLived = try ChildProcess(URL(fileURLWithPath: "/bin/sleep"), ["60"])
        defer {
            longLived.signal(SIGKILL)
            longLived.waitUntilExit()
        }
        for status in [0, 3] {
            let short = try ChildProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "exit \(status)"])
            #expect(try await Blocking.run { short.wait(timeout: 10) })
            #expect(short.terminationStatus == Int32(status))
            #expect(short.terminationReason == .exit)
        }
        #expect(longLived.isRunning)
        longLived.signal(SIGTERM)
        #expect(try await Blocking.run { longLived.wait(timeout: 10) })
        #expect(longLived.terminationStatus == SIGTERM)
        #expect(longLived.terminationReason == .uncaughtSignal)
    }

    @Test func standardInputFromAPipeEndsWhenItsWriterCloses() async throws {
        let output = try TestSupport.temporaryDirectory("child").appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: output.deletingLastPathComponent()) }
        let cat = try ChildProcess(
            URL(fileURLWithPath: "/bin/cat"), [], standardInput: .pipe, standardOutput: .file(output))
        try cat.standardInputWriter?.write(contentsOf: Data("piped\n".utf8))
        try cat.standardInputWriter?.close()
        #expect(try await Blocking.run { cat.wait(timeout: 10) })
        #expect(try String(contentsOf: output, encoding: .utf8) == "piped\n")
    }

    @Test func aChildIsInTheTestProcesssGroup() async throws {
        let group = try #require(ChildGroup.ofThisProcess)
        let child = try ChildProcess(URL(fileURLWithPath: "/bin/sleep"), ["60"])
        defer {
            child.signal(SIGKILL)
            child.waitUntilExit()
        }
        #expect(getpgid(child.processIdentifier) == group.leader)
        #expect(getpgid(group.leader) == group.leader)
        #expect(getpgid(group.leader) != getpgid(0))
    }

    /// What a crash of the test process does to its group, shown with a group of its own: the
    /// owner's end of the leader's pipe closes, as the kernel closes it when a process ends.
    @Test func theGroupsMembersAndTheirChildrenEndWithTheOwnersEnd() async throws {
        let directory = try TestSupport.temporaryDirectory("group")
        defer { try? FileManager.default.removeItem(at: directory) }
        let grandchildFile = directory.appendingPathComponent("grandchild")
        let group = try ChildGroup()
        let child = try ChildProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "sleep 60 & echo $! > \(grandchildFile.path); wait"],
            group: group)
        let grandchild: pid_t = try await Blocking.run {
            for _ in 0..<1000 {
                if let text = try? String(contentsOf: grandchildFile, encoding: .utf8), text.hasSuffix("\n"),
                    let pid = pid_t(text.dropLast())
                {
                    return pid
                }
                usleep(10_000)
            }
            return 0
        }
        try #require(grandchild > 0)
        #expect(Self.isAlive(grandchild))
        #expect(child.isRunning)

        group.end()
        #expect(try await Blocking.run { child.wait(timeout: 10) })
        #expect(child.terminationReason == .uncaughtSignal)
        #expect(child.terminationStatus == SIGKILL)
        let grandchildEnded = try await Blocking.run {
            for _ in 0..<1000 where Self.isAlive(grandchild) { usleep(10_000) }
            return !Self.isAlive(grandchild)
        }
        #expect(grandchildEnded)
    }

    /// Whether `pid` is a process that has not ended: gone, or a zombie nobody reaped yet, is not.
    private static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(after: end)...].hasPrefix(" Z")
    }
}
