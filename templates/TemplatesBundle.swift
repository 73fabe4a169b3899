import Foundation

/// Where the built-in templates that ship with hipkit live once installed.
public enum TemplatesBundle {
    /// The folder holding `scaffolds/` (and, later, page layouts), inside the resource bundle that
    /// SwiftPM copies next to the `hipkit` binary.
    public static var root: URL { Bundle.module.resourceURL ?? Bundle.module.bundleURL }

    /// The folder of the scaffold called `name` (for example `full`).
    public static func scaffold(_ name: String) -> URL {
        root.appendingPathComponent("scaffolds").appendingPathComponent(name)
    }
}
