import Foundation
import Testing

@testable import HipKit

@Suite struct FileTreeTests {
    /// Depth first, names sorted, a folder before its content; links reported, not followed;
    /// a skipped folder is not entered.
    @Test func walksInOneOrderWithoutFollowingLinks() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        for path in ["b.txt", "a/z.txt", "a/b/c.txt", "a-c.txt", "dist/x.html", "elsewhere/y.txt"] {
            try TestSupport.write(path, to: root.appendingPathComponent("tree/" + path))
        }
        let tree = root.appendingPathComponent("tree")
        try FileManager.default.createSymbolicLink(atPath: tree.path + "/link", withDestinationPath: "elsewhere")

        let entries = try #require(FileTree.walk(tree) { $0 == "dist" })
        #expect(
            entries.map(\.path) == [
                "a", "a/b", "a/b/c.txt", "a/z.txt", "a-c.txt", "b.txt", "elsewhere", "elsewhere/y.txt", "link",
            ])
        #expect(entries.first { $0.path == "link" }?.stat.kind == .link)
        #expect(entries.first { $0.path == "a/z.txt" }?.stat.size == Int64("a/z.txt".utf8.count))
        #expect(
            try FileTree.files(under: tree) == [
                "a-c.txt", "a/b/c.txt", "a/z.txt", "b.txt", "dist/x.html", "elsewhere/y.txt",
            ])
        #expect(FileTree.walk(root.appendingPathComponent("missing")) == nil)
        // A root that is a link to a folder is walked; links inside it are not followed.
        try FileManager.default.createSymbolicLink(atPath: root.path + "/tree-link", withDestinationPath: "tree")
        #expect(FileTree.walk(root.appendingPathComponent("tree-link")) { $0 == "dist" } == entries)
        #expect(FileTree.walk(tree.appendingPathComponent("b.txt")) == nil, "a file is no folder to walk")
    }

    /// Unsorted, a walk finds the same entries, each folder still before what it holds; names
    /// that are not ASCII come back as they were written.
    @Test func anUnsortedWalkFindsTheSameEntries() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let paths = (0..<40).map { "p\($0 * 7 % 40).md" } + ["ü/é.txt", "ü/deep/x", "a/b/c.txt"]
        for path in paths { try TestSupport.write(path, to: root.appendingPathComponent(path)) }

        let sorted = try #require(FileTree.walk(root))
        let unsorted = try #require(FileTree.walk(root, sorted: false))
        #expect(unsorted.count == sorted.count)
        #expect(Set(unsorted.map(\.path)) == Set(sorted.map(\.path)))
        #expect(Set(unsorted) == Set(sorted), "the same stat for each")
        for (index, entry) in unsorted.enumerated() {
            guard let slash = entry.path.lastIndex(of: "/") else { continue }
            let folder = String(entry.path[..<slash])
            #expect(unsorted[..<index].contains { $0.path == folder }, "\(folder) before \(entry.path)")
        }
        #expect(sorted.filter { $0.path.hasPrefix("ü") }.map(\.path) == ["ü", "ü/deep", "ü/deep/x", "ü/é.txt"])
        #expect(
            sorted.map(\.path)
                == sorted.map(\.path).sorted { lhs, rhs in
                    // Each folder's names in order, a folder before what it holds.
                    lhs.split(separator: "/").lexicographicallyPrecedes(rhs.split(separator: "/"))
                })
    }

    /// A name that is not UTF-8 has no path a String can hold: a complete walk gives up, as at
    /// anything it cannot read, and a partial one passes it over instead of naming another file.
    @Test func aNameThatIsNotUTF8IsNotMadeIntoAnotherPath() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try TestSupport.write("x", to: root.appendingPathComponent("sub/good.txt"))
        let name = Array((root.path + "/sub/bad").utf8) + [0xFF, 0]
        let made = name.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
        }
        try #require(made >= 0)
        close(made)

        #expect(FileTree.walk(root) == nil)
        let partial = try #require(FileTree.walk(root, complete: false))
        #expect(partial.map(\.path) == ["sub", "sub/good.txt"])
        #expect(try FileTree.files(under: root) == ["sub/good.txt"])
    }

    @Test func statReadsTheModificationTimeToTheNanosecond() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("f")
        try TestSupport.write("x", to: file)
        let date = Date(timeIntervalSince1970: 1_700_000_000.25)
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: file.path)
        let stat = try #require(FileStat.read(file.path))
        #expect(stat.kind == .file && stat.size == 1)
        #expect(stat.modifiedSeconds == 1_700_000_000)
        #expect(abs(stat.modifiedNanoseconds - 250_000_000) < 1000)
        #expect(stat.modified == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(FileStat.read(root.path)?.kind == .directory)
        #expect(FileStat.read(root.appendingPathComponent("none").path) == nil)
    }
}
