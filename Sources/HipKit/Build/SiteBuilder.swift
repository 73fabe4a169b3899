import Foundation

/// Writes a project's build output: the descriptor, static glance data and referenced files.
public struct SiteBuilder: Sendable {
    public init() {}

    /// What a build wrote, relative to the output folder, in a stable order.
    public struct Report: Sendable {
        public var files: [String]
    }

    /// Builds `project` into `output`, replacing it whole. Call only for a project without errors.
    @discardableResult
    public func build(_ project: AddonProject, into output: URL) throws -> Report {
        try refuseOverlap(project.directory, output)
        var files: [String] = []
        try StagedDirectory.replace(output) { staging in
            try StagedDirectory.write(Data(JSONWriter.string(project.descriptor.withoutLocations).utf8),
                                      to: staging.appendingPathComponent(StagedDirectory.marker))
            files.append(StagedDirectory.marker)
            for glance in project.glances {
                let relative = String(glance.urlPath.drop { $0 == "/" })
                try StagedDirectory.write(Data(JSONWriter.string(glance.data.withoutLocations).utf8),
                                          to: staging.appendingPathComponent(relative))
                files.append(relative)
            }
            for asset in project.assets {
                let source = project.directory.appendingPathComponent(asset)
                let data: Data
                do { data = try Data(contentsOf: source) } catch {
                    throw HipKitError("cannot read \(asset): \(error.localizedDescription)")
                }
                try StagedDirectory.write(data, to: staging.appendingPathComponent(asset))
                files.append(asset)
            }
        }
        return Report(files: files.sorted())
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
