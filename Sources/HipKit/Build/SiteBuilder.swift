import Foundation

/// Writes a rendered site to disk, replacing the output folder whole.
public struct SiteBuilder: Sendable {
    public init() {}

    public func write(_ files: [SiteFile], of project: AddonProject, into output: URL) throws {
        try refuseOverlap(project.directory, output)
        try StagedDirectory.replace(output) { staging in
            for file in files {
                try StagedDirectory.write(file.data, to: staging.appendingPathComponent(file.path))
            }
        }
    }

    /// The output folder replaces its content whole, so it must not hold the project.
    private func refuseOverlap(_ project: URL, _ output: URL) throws {
        let p = project.standardizedFileURL.resolvingSymlinksInPath().path
        let o = output.standardizedFileURL.resolvingSymlinksInPath().path
        if p == o || (p + "/").hasPrefix(o + "/") {
            throw HipKitError("--out \(output.path) holds the project itself; hipkit replaces its output folder whole",
                              hint: "build into a folder of its own, such as dist")
        }
    }
}
