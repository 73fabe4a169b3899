import HipChatConnect

/// Comparison whose running time does not depend on where two secrets first differ, so the
/// admin token cannot be guessed one byte at a time from response timings.
enum ConstantTime {
    static func equals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        if x.count != y.count { difference |= 1 }
        // Walk the expected value's length whatever the input, so length is all that leaks.
        for i in 0..<y.count {
            let left = i < x.count ? x[i] : 0
            difference |= left ^ y[i]
        }
        return difference == 0
    }
}
