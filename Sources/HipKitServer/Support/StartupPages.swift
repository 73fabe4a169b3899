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
/// Only the executable's read-only and executable mappings are given back: they are the file's
/// own bytes, never a copy the process wrote to. They are marked for random access too, so that
/// what comes back is what is used.
enum StartupPages {
    /// `MADV_PAGEOUT` (Linux 5.4), which Glibc's module does not name.
    private static let pageOut: Int32 = 21

    /// Gives back the executable's pages; how many bytes of mappings it asked about (0 where
    /// the kernel or the system has no such thing).
    @discardableResult
    static func release() -> Int {
        #if os(Linux)
            guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
                let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
            else { return 0 }
            var released = 0
            for line in maps.split(separator: "\n") {
                // start-end perms offset device inode path
                let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
                guard fields.count == 6, fields[5].trimmingCharacters(in: .whitespaces) == executable,
                    !fields[1].contains("w")
                else { continue }
                let bounds = fields[0].split(separator: "-")
                guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                    end > start, let address = UnsafeMutableRawPointer(bitPattern: start)
                else { continue }
                // Without read-ahead, a page a request needs comes back alone: read ahead,
                // each fault brought 64 KB around it, and serving spreads over so much of the
                // code that this kept 10 MB more of it resident under load.
                _ = madvise(address, Int(end - start), MADV_RANDOM)
                if madvise(address, Int(end - start), pageOut) == 0 { released += Int(end - start) }
            }
            // And the heap's free pages: what starting allocated and let go of (reading the site,
            // the store's first reads) stays in glibc's arenas, spread between live blocks.
            malloc_trim(0)
            return released
        #else
            return 0
        #endif
    }

    /// Resident kilobytes of the read-only and executable mappings of process `pid`'s
    /// executable (0 where there is no `/proc`): what ``release()`` gives back.
    static func residentKiB(pid: String = "self") -> Int {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
            let smaps = try? String(contentsOfFile: "/proc/\(pid)/smaps", encoding: .utf8)
        else { return 0 }
        var total = 0
        var counting = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), fields.count >= 5 {
                counting = fields.count == 6 && fields[5] == executable && !fields[1].contains("w")
            } else if counting, fields.first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
                total += kib
            }
        }
        return total
    }
}
