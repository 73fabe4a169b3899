import HipKitTemplates

enum HipKitVersion {
    /// The release; `make dist` names its archive after it.
    static let current = "0.1.0"

    /// What `hipkit --version` prints: the release and the commit the binary was built from, so a
    /// report names exactly the code that ran.
    static let full = "\(current) (commit \(BuildInfo.commit))"
}
