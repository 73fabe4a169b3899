import Foundation
import HipChatConnect

/// Writes a rendered site to disk, replacing the output folder whole.
public struct SiteBuilder: Sendable {
    /// The project's cache folder (`.hipkit/cache`), where the last build is recorded; nil
    /// writes every file every time.
    public var cacheDirectory: URL?

    /// Whether the new output is flushed to disk before it replaces the old (see
    /// ``StagedDirectory/replace(_:durable:fill:)``).
    public var durable: Bool

    /// The ``InputStamp`` to record with the output (nil: the next build cannot skip its work).
    var inputs: String?

    public init(cacheDirectory: URL? = nil, durable: Bool = true) {
        self.cacheDirectory = cacheDirectory
        self.durable = durable
    }

    /// What a write did.
    public enum Outcome: Sendable, Equatable {
        /// The output already held exactly these files: nothing was written.
        case unchanged
        /// The output was replaced; `written` files had new content, `linked` were the same as
        /// before and linked from the previous output.
        case replaced(written: Int, linked: Int)
    }

    @discardableResult
    public func write(_ files: [SiteFile], of project: AddonProject, into output: URL) throws -> Outcome {
        try refuseOverlap(project.directory, output)
        // Digests serve only the record of this build and the comparison with the last one: a
        // build without a cache folder has neither, and hashing every file was a tenth of a
        // clean build's instructions.
        let digests =
            cacheDirectory == nil
            ? [:] : Dictionary(uniqueKeysWithValues: files.map { ($0.path, BuildCache.digest($0.data)) })
        let previous = cacheDirectory.flatMap(BuildRecord.load)
            .flatMap { $0.output == output.standardizedFileURL.path ? $0 : nil }
        if let previous, Set(previous.files.keys) == Set(digests.keys),
            digests.allSatisfy({ previous.files[$0.key]?.digest == $0.value }),
            FileManager.default.fileExists(atPath: output.appendingPathComponent(ConnectDescriptor.fileName).path),
            previous.isIntact(output)
        {
            if let cacheDirectory, previous.inputs != inputs {
                BuildRecord(output: previous.output, files: previous.files, inputs: inputs).save(to: cacheDirectory)
            }
            return .unchanged
        }
        var written = 0
        var linked = 0
        let folder = output.path
        try StagedDirectory.replace(output, durable: durable) { staging in
            // A file's open, write and close are mostly system-call time: writers on several
            // cores share the files (a folder two of them need is made by whichever comes first).
            let lanes = max(1, min(files.count, ProcessInfo.processInfo.activeProcessorCount, 4))
            let done = ResultSlots<Result<(written: Int, linked: Int), any Error>>(count: lanes)
            let stagingPath = staging.path
            DispatchQueue.concurrentPerform(iterations: lanes) { lane in
                done[lane] = Result {
                    var counts = (written: 0, linked: 0)
                    for i in stride(from: lane, to: files.count, by: lanes) {
                        let file = files[i]
                        if let previous, previous.files[file.path]?.digest == digests[file.path],
                            previous.isIntact(file.path, inFolder: folder)
                        {
                            // Told it is no folder, Foundation does not lstat each path to find out.
                            try StagedDirectory.link(
                                output.appendingPathComponent(file.path, isDirectory: false),
                                to: staging.appendingPathComponent(file.path, isDirectory: false))
                            counts.linked += 1
                        } else {
                            try StagedDirectory.write(file.data, toPath: ProjectLoader.join(stagingPath, file.path))
                            counts.written += 1
                        }
                    }
                    return counts
                }
            }
            for lane in 0..<lanes {
                guard let counts = try done[lane]?.get() else { continue }
                written += counts.written
                linked += counts.linked
            }
        }
        if let cacheDirectory {
            BuildRecord.make(output: output, digests: digests, inputs: inputs).save(to: cacheDirectory)
        }
        return .replaced(written: written, linked: linked)
    }

    /// The output folder replaces its content whole, so it must not hold the project; and it
    /// must not be inside `assets/`, which the build copies whole: each build would copy the
    /// last one into itself, one level deeper every time.
    private func refuseOverlap(_ project: URL, _ output: URL) throws {
        let p = project.standardizedFileURL.resolvingSymlinksInPath().path
        let o = output.standardizedFileURL.resolvingSymlinksInPath().path
        if p == o || (p + "/").hasPrefix(o + "/") {
            throw HipKitError(
                "--out \(output.path) holds the project itself; hipkit replaces its output folder whole",
                hint: "build into a folder of its own, such as dist")
        }
        let assets = project.appendingPathComponent("assets").standardizedFileURL.resolvingSymlinksInPath().path
        if (o + "/").hasPrefix(assets + "/") {
            throw HipKitError(
                "--out \(output.path) is inside the project's assets/, which every build copies whole into its output",
                hint: "build into a folder of its own, such as dist")
        }
    }
}
