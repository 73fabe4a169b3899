import Foundation
import HipChatConnect

/// The target `HIPKIT_FUZZ_TARGET` names: one binary for every target, so the package builds
/// (with its sanitizers) once.
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["HIPKIT_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(
            Data(
                "HIPKIT_FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n"
                    .utf8))
        exit(2)
    }
    return target
}()

/// Carries one input to the target's (async) run and waits for it. libFuzzer calls from its own
/// thread, never from Swift's concurrency pool, so waiting here starves nothing.
private final class InputRun: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)

    func run(_ bytes: [UInt8]) {
        Task.detached { [self] in
            await selectedTarget.run(bytes)
            done.signal()
        }
        done.wait()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Synchronous targets run right here: a Task's memory is freed after it signals, which
    // libFuzzer's per-input leak check would take for a leak and examine, input after input.
    if selectedTarget.isAsync {
        InputRun().run(bytes)
    } else {
        selectedTarget.runSynchronously(bytes)
    }
    return 0
}

/// libFuzzer's driver, from the runtime `-sanitize=fuzzer` links in.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's entry point under this name; with `-parse-as-library` there is
/// none, so it hands control to libFuzzer's driver here.
@_cdecl("hipkit_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
