import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The pages of hipkit's own executable that starting the server touched, given back to the
/// kernel once it listens.
///
/// Why: hipkit is one 55 MB executable (the Swift runtime and Foundation inside), and starting a
/// server runs code spread across most of it — argument parsing, the site's loading, the store's
/// migrations, each type's metadata found on first use. Every page of it touched stays resident
/// after, 33 MB of a 42 MB idle server, although serving requests needs a fraction of it. A
/// page asked for again is read back at its first use, which costs the first requests after a
/// start a few page faults each, and nothing after.
///
/// Only pages that are still the file's own bytes are given back, never a copy the process wrote
/// to (relocated pointers, globals): those are told apart with `/proc/self/pagemap`. That takes
/// in the writable mapping too, where the linker puts `.rodata` (a few of the static libraries
/// mark it writable): the constant data starting read, 4 MB of it, was resident for good before.
/// The mappings are marked for random access, so that what comes back is what is used.
enum StartupPages {
    /// `MADV_PAGEOUT` (Linux 5.4), which Glibc's module does not name.
    private static let pageOut: Int32 = 21
    /// `AT_EMPTY_PATH` (a GNU extension, which Glibc's module does not name either).
    private static let emptyPath: Int32 = 0x1000
    /// Bits of a `/proc/PID/pagemap` entry (the kernel's admin-guide/mm/pagemap): the page is
    /// present, and it is a page of a file (not an anonymous copy).
    private static let present: UInt64 = 1 << 63
    private static let filePage: UInt64 = 1 << 61

    /// ``release()`` on a thread of its own: it makes blocking system calls (the executable's
    /// write-back among them, up to its whole size once), which are not for the tasks' threads.
    @discardableResult
    static func releaseOnThread() async -> Int {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: release()) }.start()
        }
    }

    /// Gives back the executable's resident file pages; how many bytes it asked to give back (0
    /// where the kernel or the system has no such thing, or would not do it).
    @discardableResult
    static func release() -> Int {
        #if os(Linux)
            // And the heap's free pages: what starting allocated and let go of (reading the site,
            // the store's first reads) stays in glibc's arenas, spread between live blocks.
            defer { malloc_trim(0) }
            guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
                let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
            else { return 0 }
            let file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
            guard file >= 0 else { return 0 }
            defer { close(file) }
            guard kernelPagesOut(file) else { return 0 }
            let pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
            guard pagemap >= 0 else { return 0 }
            defer { close(pagemap) }
            let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
            // The kernel gives back only clean pages, and an executable just built or copied is
            // dirty in the page cache until written back (some 30 s later): written back now.
            // Nothing to write, this costs a system call; else it writes the file once, at start.
            _ = fdatasync(file)
            var released = 0
            for line in maps.split(separator: "\n") {
                // start-end perms offset device inode path
                let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
                guard fields.count == 6, fields[5].trimmingCharacters(in: .whitespaces) == executable else { continue }
                let bounds = fields[0].split(separator: "-")
                guard bounds.count == 2, let start = Int(bounds[0], radix: 16), let end = Int(bounds[1], radix: 16),
                    end > start, let address = UnsafeMutableRawPointer(bitPattern: start)
                else { continue }
                // Without read-ahead, a page a request needs comes back alone: read ahead,
                // each fault brought 64 KB around it, and serving spreads over so much of the
                // code that this kept 10 MB more of it resident under load. (Linux 6.16 and
                // later read around faults in executable mappings even so.)
                _ = madvise(address, end - start, MADV_RANDOM)
                for run in filePages(start..<end, pageSize: pageSize, pagemap: pagemap) {
                    if madvise(UnsafeMutableRawPointer(bitPattern: run.lowerBound), run.count, pageOut) == 0 {
                        released += run.count
                    }
                }
            }
            return released
        #else
            return 0
        #endif
    }

    #if os(Linux)
        /// Whether Linux pages out the pages of the open `file` at this process's request: only
        /// for a file it owns or may write to (`can_do_file_pageout` in mm/madvise.c; root may do
        /// both). An executable that belongs to another user and is read-only to this one —
        /// installed by root, run as a service account — keeps its pages, and nothing is asked.
        /// Through the open file, so that an executable replaced on disk since the start is the
        /// one looked at.
        static func kernelPagesOut(_ file: Int32) -> Bool {
            var info = stat()
            guard fstat(file, &info) == 0 else { return false }
            return geteuid() == 0 || info.st_uid == geteuid()
                || faccessat(file, "", W_OK, AT_EACCESS | emptyPath) == 0
        }

        /// The runs of resident pages in `range` that are the file's own bytes, as address ranges.
        private static func filePages(_ range: Range<Int>, pageSize: Int, pagemap: Int32) -> [Range<Int>] {
            let count = range.count / pageSize
            var entries = [UInt64](repeating: 0, count: count)
            let want = count * MemoryLayout<UInt64>.stride
            let read = entries.withUnsafeMutableBytes {
                pread(pagemap, $0.baseAddress, want, off_t(range.lowerBound / pageSize * MemoryLayout<UInt64>.stride))
            }
            guard read == want else { return [] }
            var runs: [Range<Int>] = []
            var first: Int?
            for i in 0...count {
                let kept = i < count && entries[i] & (present | filePage) == present | filePage
                if kept, first == nil {
                    first = i
                } else if !kept, let from = first {
                    runs.append(range.lowerBound + from * pageSize..<range.lowerBound + i * pageSize)
                    first = nil
                }
            }
            return runs
        }
    #endif

    /// Resident kilobytes of process `pid`'s executable that are the file's own bytes (0 where
    /// there is no `/proc`): what ``release()`` gives back.
    static func residentKiB(pid: String = "self") -> Int {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
            let smaps = try? String(contentsOfFile: "/proc/\(pid)/smaps", encoding: .utf8)
        else { return 0 }
        var total = 0
        var counting = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), fields.count >= 5 {
                counting = fields.count == 6 && fields[5] == executable
            } else if counting, fields.count >= 2, let kib = Int(fields[1]) {
                // Resident, less the copies the process wrote to.
                if fields[0] == "Rss:" { total += kib } else if fields[0] == "Anonymous:" { total -= kib }
            }
        }
        return total
    }
}
