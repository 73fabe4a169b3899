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
