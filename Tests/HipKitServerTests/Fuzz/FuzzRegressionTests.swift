import Foundation
import HipChatConnect
import Testing

/// Every input the fuzzers kept (Fuzz/corpus) or found failing (Fuzz/crashes), fed to the
/// same readers again: what once crashed, hung or leaked must stay fixed. `FuzzTarget.swift`
/// here is a link to the fuzz package's own, so these are the fuzzer's targets exactly.
@Suite struct FuzzRegressionTests {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../../Fuzz"
    ).standardizedFileURL

    static func inputs(_ target: FuzzTarget) -> [URL] {
        ["corpus", "crashes"].flatMap { kind -> [URL] in
            let folder = fuzz.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func keptInputsStillPass(target: FuzzTarget) async throws {
        let inputs = Self.inputs(target)
        #expect(!inputs.isEmpty, "Fuzz/corpus/\(target.rawValue) is in the repository")
        for input in inputs {
            await target.run([UInt8](try Data(contentsOf: input)))
        }
    }
}
