import Foundation
import Testing

@testable import HipKitServer

/// The executable's pages that starting touched are given back (here, the test process's own).
@Suite struct StartupPagesTests {
    /// Resident kilobytes of the executable's read-only and executable mappings.
    static func residentExecutableKiB() throws -> Int {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var total = 0
        var counting = false
        for line in try String(contentsOfFile: "/proc/self/smaps", encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), fields.count >= 5 {
                counting = fields.count == 6 && fields[5] == executable && !fields[1].contains("w")
            } else if counting, fields.first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
                total += kib
            }
        }
        return total
    }

    @Test func theExecutablesReadOnlyPagesAreGivenBack() throws {
        let before = try Self.residentExecutableKiB()
        #expect(before > 1024)
        #expect(StartupPages.release() > 0)
        let after = try Self.residentExecutableKiB()
        #expect(after < before / 2, "\(before) KiB resident before, \(after) KiB after")
    }
}
