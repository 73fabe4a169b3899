import Foundation
import PackagePlugin

/// Embeds the files under `templates/` in the `HipKitTemplates` module, so that the `hipkit`
/// binary alone is a complete installation: the scaffolds, page layouts, the live-reload script
/// and the local HipChat's page travel inside it, and nothing is looked up beside it at run time.
///
/// `templates/` stays the place people edit these files. Every file there is an input, so an
/// edit, a new file or a removed one makes the next build embed again. The commit the binary is
/// built from (for `hipkit --version`) is read at the same time, with git's `HEAD` and the ref
/// it names as inputs, so a new commit is picked up too.
@main
struct EmbedTemplates: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = target.directoryURL
        let files = Self.files(under: folder)
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedTemplates.swift")
        let repository = context.package.directoryURL
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) files of templates/",
                executable: try context.tool(named: "TemplateEmbedder").url,
                arguments: [folder.path, output.path, repository.path] + files,
                inputFiles: files.map { folder.appending(path: $0) } + Self.gitInputs(repository),
                outputFiles: [output])
        ]
    }

    /// Every file under `folder` but the module's own Swift source and README, relative, sorted.
    static func files(under folder: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var files: [String] = []
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }),
                FileManager.default.fileExists(atPath: folder.appending(path: path).path, isDirectory: &isDirectory),
                !isDirectory.boolValue, !path.hasSuffix(".swift"), path != "README.md"
            else { continue }
            files.append(path)
        }
        return files.sorted()
    }

    /// `.git/HEAD`, the branch file it names and `packed-refs`, those that exist.
    static func gitInputs(_ repository: URL) -> [URL] {
        let git = repository.appending(path: ".git")
        var inputs = [git.appending(path: "HEAD"), git.appending(path: "packed-refs")]
        if let head = try? String(contentsOf: inputs[0], encoding: .utf8), head.hasPrefix("ref: ") {
            inputs.append(git.appending(path: head.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return inputs.filter { FileManager.default.fileExists(atPath: $0.path) }
    }
}
