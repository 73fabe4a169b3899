import Foundation
import HipChatConnect

/// Writes `addon.yaml` text: a header comment, the spec, and a blank line between top-level
/// sections so the file reads like one written by hand.
public enum SpecFileWriter {
    public static func text(for spec: JSONNode, header: [String]) -> String {
        let body = YAMLEmitter().emit(spec)
        var lines: [String] = header.map { "# " + $0 }
        if !lines.isEmpty { lines.append("") }
        // Top-level entries, each a key line at column 0 and the indented lines under it.
        var blocks: [[Substring]] = []
        for line in body.split(separator: "\n", omittingEmptySubsequences: true) {
            let startsEntry = line.first.map { $0 != " " && $0 != "-" } ?? false
            if startsEntry || blocks.isEmpty {
                blocks.append([line])
            } else {
                blocks[blocks.count - 1].append(line)
            }
        }
        // One-line entries stay together; an entry of several lines stands apart.
        for (i, block) in blocks.enumerated() {
            if i > 0, block.count > 1 || blocks[i - 1].count > 1 { lines.append("") }
            lines += block.map(String.init)
        }
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `text` to `url` through a temporary file and a rename, so a reader never sees half
    /// a file. Refuses to replace an existing file unless `replacing`.
    /// Throws what ``write(_:to:replacing:)`` would for a target it must not write (one that
    /// exists, without `replacing`; a folder that is a file), before anything is read or said.
    public static func checkWritable(_ url: URL, replacing: Bool) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: url.path) && !replacing {
            throw HipKitError("\(url.path) exists", hint: "pass --force to replace it")
        }
        let folder = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw HipKitError(
                "\(folder.path) is a file, not a folder",
                hint: "name a folder for addon.yaml with --out (it is made if missing)")
        }
    }

    public static func write(_ text: String, to url: URL, replacing: Bool) throws {
        try checkWritable(url, replacing: replacing)
        let fm = FileManager.default
        let folder = url.deletingLastPathComponent()
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
            let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
            try StagedDirectory.write(Data(text.utf8), to: temporary, flush: true)
            guard rename(temporary.path, url.path) == 0 else {
                try? fm.removeItem(at: temporary)
                throw HipKitError("cannot write \(url.path): \(String(cString: strerror(errno)))")
            }
        } catch let error as HipKitError {
            throw error
        } catch {
            throw HipKitError("cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}
