import Foundation
import HipChatConnect

#if canImport(Glibc)
    import Glibc
#endif

/// Tells when files of a project change, in batches: a burst of events (an editor writing a
/// temporary file and renaming it over the page, a `git checkout` touching many files) arrives
/// as one set of changed paths once things have been quiet for a moment.
///
/// Uses Linux's inotify, watching every folder of the project, and falls back to comparing
/// modification times every few hundred milliseconds where inotify is not available.
public final class ProjectWatcher: @unchecked Sendable {
    public let root: URL
    /// Top-level folders whose changes are ignored: the output and hipkit's own cache.
    public let ignored: Set<String>
    /// How long things must stay quiet before a batch is delivered.
    /// Short, because it is part of every save's wait: editors' temp-file-then-rename saves
    /// arrive within a millisecond, and a longer burst only costs an extra quick rebuild.
    public var quiet: Duration = .milliseconds(15)

    private let lock = NSLock()
    private var stopped = false

    public init(root: URL, ignoring ignored: Set<String> = ProjectLayout.ignored) {
        self.root = root.standardizedFileURL.resolvingSymlinksInPath()
        self.ignored = ignored
    }

    /// Batches of changed paths, relative to the root, until ``stop()``.
    ///
    /// Returns once the project is being watched, so a change made right after the call is
    /// never missed (on a busy machine the watching thread may start late).
    public func changes() -> AsyncStream<Set<String>> {
        let ready = DispatchSemaphore(value: 0)
        let stream = AsyncStream { continuation in
            let thread = Thread { [self] in
                if !watchWithInotify(continuation, ready: ready) { watchByPolling(continuation, ready: ready) }
                continuation.finish()
            }
            thread.name = "hipkit-watcher"
            thread.start()
            continuation.onTermination = { [weak self] _ in self?.stop() }
        }
        _ = ready.wait(timeout: .now() + 30)
        return stream
    }

    public func stop() {
        lock.withLock { stopped = true }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func isIgnored(_ relative: String) -> Bool {
        guard let first = relative.split(separator: "/").first.map(String.init) else { return false }
        if ignored.contains(first) { return true }
        // The staging folder a build fills beside its output comes and goes with every build;
        // seeing it would start the next one.
        if ProjectLayout.isStaging(first) { return true }
        let name = (relative as NSString).lastPathComponent
        // Editors' swap and backup files.
        return name.hasSuffix("~") || name.hasSuffix(".swp") || name.hasSuffix(".swx") || name.hasPrefix(".#")
            || name == "4913"
    }

    // MARK: inotify

    private func watchWithInotify(_ continuation: AsyncStream<Set<String>>.Continuation, ready: DispatchSemaphore)
        -> Bool
    {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let mask = UInt32(
            IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_ATTRIB)
        var folders: [Int32: String] = [:]
        /// Watches the folder `relative` and every folder under it; returns the files found there.
        ///
        /// Each folder is watched *before* it is listed: what is made inside it after the listing
        /// then arrives as an event, and what was made before is in the listing. For a folder that
        /// has just appeared (`mkdir -p pages/help` and a page written in it), those files were
        /// made before any watch could see them, so the caller reports them as changed.
        @discardableResult
        func watch(_ relative: String) -> [String] {
            let path = relative.isEmpty ? root.path : root.appendingPathComponent(relative).path
            let wd = inotify_add_watch(fd, path, mask)
            if wd >= 0 { folders[wd] = relative }
            var files: [String] = []
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() {
                let child = relative.isEmpty ? name : relative + "/" + name
                guard !isIgnored(child) else { continue }
                switch FileStat.read(path + "/" + name, followingLinks: false)?.kind {
                case .directory?: files += watch(child)
                case .file?: files.append(child)
                default: continue
                }
            }
            return files
        }
        watch("")
        ready.signal()
        var pending = Set<String>()
        var lastEvent = ContinuousClock.now
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !isStopped {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            // Wake exactly when the quiet period ends, rather than up to one poll interval later.
            let remaining = pending.isEmpty ? Duration.milliseconds(50) : quiet - (ContinuousClock.now - lastEvent)
            let wait = max(1, Int32(remaining.inMilliseconds))
            let ready = poll(&poller, 1, wait)
            if ready > 0 {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                var offset = 0
                while count > 0, offset + MemoryLayout<inotify_event>.size <= count {
                    let (wd, eventMask, nameLength, name) = buffer.withUnsafeBytes {
                        raw -> (Int32, UInt32, Int, String) in
                        let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                        let start = offset + MemoryLayout<inotify_event>.size
                        let bytes = raw[start..<start + Int(event.len)].prefix { $0 != 0 }
                        return (event.wd, event.mask, Int(event.len), String(decoding: bytes, as: UTF8.self))
                    }
                    offset += MemoryLayout<inotify_event>.size + nameLength
                    guard let folder = folders[wd] else { continue }
                    let relative = name.isEmpty ? folder : (folder.isEmpty ? name : folder + "/" + name)
                    if isIgnored(relative) { continue }
                    if eventMask & UInt32(IN_ISDIR) != 0, eventMask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                        pending.formUnion(watch(relative))
                    }
                    if eventMask & UInt32(IN_DELETE_SELF) != 0 { folders[wd] = nil }
                    pending.insert(relative)
                    lastEvent = .now
                }
            }
            if !pending.isEmpty, ContinuousClock.now - lastEvent >= quiet {
                continuation.yield(pending)
                pending.removeAll()
            }
        }
        return true
    }

    // MARK: Polling

    private func watchByPolling(_ continuation: AsyncStream<Set<String>>.Continuation, ready: DispatchSemaphore) {
        var previous = snapshot()
        ready.signal()
        while !isStopped {
            usleep(300_000)
            let now = snapshot()
            let changed = Set(now.keys).symmetricDifference(previous.keys).union(
                now.keys.filter { previous[$0] != nil && previous[$0] != now[$0] })
            if !changed.isEmpty { continuation.yield(changed) }
            previous = now
        }
    }

    private func snapshot() -> [String: Double] {
        var result: [String: Double] = [:]
        for entry in FileTree.walk(root, complete: false, sorted: false, skipping: isIgnored) ?? []
        where entry.stat.kind == .file {
            result[entry.path] = Double(entry.stat.modifiedSeconds) + Double(entry.stat.modifiedNanoseconds) / 1e9
        }
        return result
    }
}
