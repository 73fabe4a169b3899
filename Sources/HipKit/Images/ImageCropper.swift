import Foundation
import HipChatConnect

/// Makes a listing image of an exact size from a bigger one, such as the 580×330 "cropped
/// highlight" the Marketplace wants beside each 1840×900 highlight.
///
/// The source is centre-cropped to the target's aspect ratio, then shrunk with an exact
/// area-average (box) filter: each output pixel is the mean of the source area it covers,
/// fractional edge pixels weighted by how much of them it covers. All arithmetic is in integers,
/// so the same input bytes give the same output bytes on every machine.
///
/// Sources smaller than the target (after cropping) are refused rather than upscaled: a blurry
/// enlarged highlight would look worse on the listing than asking the user for a bigger image.
public enum ImageCropper {
    /// Decodes PNG or JPEG `data`, crops and scales it to `width`×`height`, and returns a PNG.
    public static func crop(_ data: Data, toWidth width: Int, height: Int) throws -> Data {
        // A 32-bit column sum holds 255 times a height of up to 8.4 million rows.
        if let rgb = try RGBAImage.decodeRGB(data), rgb.height <= Int(Int32.max) / 255 {
            let area = try check(width: rgb.width, height: rgb.height, toWidth: width, height: height)
            let pixels = resampleOpaque(rgb.pixels, sourceWidth: rgb.width, area: area, toWidth: width, height: height)
            return try RGBAImage.pngData(samples: pixels, channels: 3, width: width, height: height)
        }
        return try crop(RGBAImage.decode(data), toWidth: width, height: height).pngData()
    }

    static func crop(_ image: RGBAImage, toWidth width: Int, height: Int) throws -> RGBAImage {
        let area = try check(width: image.width, height: image.height, toWidth: width, height: height)
        return resample(image, area: area, toWidth: width, height: height)
    }

    /// Whether an image of `info`'s size and format can be cropped to `width`×`height`, from its
    /// header alone: the checks of ``crop(_:toWidth:height:)`` without decoding the pixels, so
    /// `hipkit validate` gives the same size errors as a build without making the crop.
    public static func check(_ info: ImageInfo, toWidth width: Int, height: Int) throws {
        if info.isCMYK { throw RGBAImage.cmykError }
        guard info.width <= RGBAImage.maxPixels, info.height <= RGBAImage.maxPixels,
            info.width * info.height <= RGBAImage.maxPixels
        else {
            throw ImageError(
                .tooLarge,
                "the \(info.format.name) image is \(info.width)×\(info.height) pixels; hipkit reads images of at most \(RGBAImage.maxPixels / 1_000_000) megapixels"
            )
        }
        _ = try check(width: info.width, height: info.height, toWidth: width, height: height)
    }

    /// The area of a `sourceWidth`×`sourceHeight` image that becomes the `width`×`height`
    /// crop, or why there is none.
    private static func check(width sourceWidth: Int, height sourceHeight: Int, toWidth width: Int, height: Int)
        throws -> (x: Int, y: Int, width: Int, height: Int)
    {
        precondition(width > 0 && height > 0, "ImageCropper: the target size must be positive")
        guard width <= RGBAImage.maxPixels, height <= RGBAImage.maxPixels, width * height <= RGBAImage.maxPixels else {
            throw ImageError(
                .tooLarge,
                "cannot make a \(width)×\(height) image; the limit is \(RGBAImage.maxPixels / 1_000_000) megapixels")
        }
        let area = cropArea(width: sourceWidth, height: sourceHeight, aspectWidth: width, aspectHeight: height)
        guard area.width >= width, area.height >= height else {
            throw ImageError(
                .tooSmall,
                "the image is \(sourceWidth)×\(sourceHeight) pixels; cut to the shape of \(width)×\(height) it is \(area.width)×\(area.height), smaller than \(width)×\(height) (hipkit does not enlarge images)"
            )
        }
        return area
    }

    /// The largest centred rectangle of `width`×`height` with the aspect ratio
    /// `aspectWidth`:`aspectHeight`, rounded to whole pixels.
    static func cropArea(width: Int, height: Int, aspectWidth: Int, aspectHeight: Int) -> (
        x: Int, y: Int, width: Int, height: Int
    ) {
        var w = width
        var h = height
        if width * aspectHeight > aspectWidth * height {
            // Wider than the target: keep the full height, trim left and right.
            w = min(width, max(1, (height * aspectWidth + aspectHeight / 2) / aspectHeight))
        } else {
            // Taller (or the same shape): keep the full width, trim top and bottom.
            h = min(height, max(1, (width * aspectHeight + aspectWidth / 2) / aspectWidth))
        }
        return ((width - w) / 2, (height - h) / 2, w, h)
    }

    /// How the source pixels along one axis feed the output pixels along it.
    ///
    /// With `source` pixels becoming `target`, output pixel i covers source positions
    /// [i·source/target, (i+1)·source/target). Measuring in units of 1/target of a source pixel
    /// keeps this integral: output i covers [i·source, (i+1)·source), source pixel j covers
    /// [j·target, (j+1)·target), each weight is the overlap length, and every output's weights
    /// add up to exactly `source`.
    struct Taps {
        /// Output i uses entries `start[i]..<start[i + 1]` of `index` and `weight`.
        var start: [Int] = [0]
        var index: [Int] = []
        var weight: [Int] = []

        init(source: Int, target: Int, offset: Int) {
            for i in 0..<target {
                let lo = i * source
                let hi = (i + 1) * source
                var j = lo / target
                while j * target < hi {
                    index.append(offset + j)
                    weight.append(min(hi, (j + 1) * target) - max(lo, j * target))
                    j += 1
                }
                start.append(index.count)
            }
        }

        /// The three tables as raw buffers, for the inner loops.
        func withBuffers<R>(
            _ body: (UnsafePointer<Int>, UnsafePointer<Int>, UnsafePointer<Int>) -> R
        ) -> R {
            start.withUnsafeBufferPointer { start in
                index.withUnsafeBufferPointer { index in
                    weight.withUnsafeBufferPointer { weight in
                        body(start.baseAddress!, index.baseAddress!, weight.baseAddress!)
                    }
                }
            }
        }
    }

    /// Area-average of `area` down to `width`×`height`, rows first, then columns.
    ///
    /// Colours are averaged weighted by alpha, so fully transparent pixels (whose colour is
    /// meaningless) do not bleed dark fringes into their neighbours.
    private static func resample(
        _ image: RGBAImage, area: (x: Int, y: Int, width: Int, height: Int), toWidth width: Int, height: Int
    ) -> RGBAImage {
        let columns = Taps(source: area.width, target: width, offset: area.x)
        let rows = Taps(source: area.height, target: height, offset: area.y)
        // Pass 1: each source row of the crop area shrunk to `width` sums of (r·a, g·a, b·a, a).
        // Products stay below 255·255·40M, far inside Int. The loops run over raw buffers: with
        // the taps read through arrays, bounds checks and reference counting were most of the
        // work (3 highlights of the `full` scaffold took 463 M instructions).
        // Every entry is written below, so the buffer is not cleared first.
        let partialCount = area.height * width * 4
        let partial = [Int](unsafeUninitializedCapacity: partialCount) { out, count in
            count = partialCount
            image.pixels.withUnsafeBufferPointer { src in
                columns.withBuffers { start, index, weight in
                    let src = src.baseAddress!
                    var o = out.baseAddress!
                    for y in 0..<area.height {
                        let row = src + (area.y + y) * image.width * 4
                        for x in 0..<width {
                            var r = 0
                            var g = 0
                            var b = 0
                            var a = 0
                            for t in start[x]..<start[x + 1] {
                                let p = row + index[t] &* 4
                                let wa = weight[t] &* Int(p[3])
                                r &+= wa &* Int(p[0])
                                g &+= wa &* Int(p[1])
                                b &+= wa &* Int(p[2])
                                a &+= wa
                            }
                            o[0] = r
                            o[1] = g
                            o[2] = b
                            o[3] = a
                            o += 4
                        }
                    }
                }
            }
        }
        // Pass 2: combine rows, then divide, rounding to nearest.
        let totalWeight = area.width * area.height
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        partial.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { out in
                rows.withBuffers { start, index, weight in
                    let src = src.baseAddress!
                    let out = out.baseAddress!
                    let stride = width * 4
                    var sums = [Int](repeating: 0, count: stride)
                    sums.withUnsafeMutableBufferPointer { sums in
                        let sums = sums.baseAddress!
                        for y in 0..<height {
                            // One source row at a time, across the whole output row: sequential reads.
                            sums.update(repeating: 0, count: stride)
                            for t in start[y]..<start[y + 1] {
                                let line = src + (index[t] - area.y) * stride
                                let w = weight[t]
                                for i in 0..<stride { sums[i] &+= w &* line[i] }
                            }
                            let line = out + y * stride
                            for x in 0..<width {
                                let s = sums + x * 4
                                let a = s[3]
                                guard a > 0 else { continue }
                                line[x * 4] = UInt8((s[0] + a / 2) / a)
                                line[x * 4 + 1] = UInt8((s[1] + a / 2) / a)
                                line[x * 4 + 2] = UInt8((s[2] + a / 2) / a)
                                line[x * 4 + 3] = UInt8((a + totalWeight / 2) / totalWeight)
                            }
                        }
                    }
                }
            }
        }
        return RGBAImage(width: width, height: height, pixels: pixels)
    }

    /// ``resample(_:area:toWidth:height:)`` for an image with no alpha channel, 3 bytes a
    /// pixel, giving the bytes that function gives the same image with an alpha of 255 (which
    /// are then written as RGB, the crop being opaque), with less work.
    ///
    /// With every alpha 255, `resample`'s sums are 255 times the plain weighted sums taken
    /// here, and its alpha sum is 255 times the crop's area; the division below is the same,
    /// integer for integer. The sums are exact, so their order is free: columns are combined
    /// first here, a run of whole rows at a time in lanes the compiler vectorises, and the
    /// per-pixel taps across a row then run on the output's rows only (330, not 900).
    ///
    /// The row weights are all multiples of the greatest common divisor of the area's height and
    /// the crop's, so they are divided by it: rounding to nearest gives the same byte dividing
    /// the smaller sums by the smaller total. When an output row's sums then stay below 2¹⁶ —
    /// for highlights of the sizes the Marketplace asks (900 or 450 rows to 330: weights of at
    /// most 11, sums of at most 255·30) — they are added in 16-bit lanes, eight to an SSE
    /// register and without SSE2's missing 32-bit multiply; three highlights took 146 M
    /// instructions with 32-bit lanes.
    private static func resampleOpaque(
        _ source: [UInt8], sourceWidth: Int, area: (x: Int, y: Int, width: Int, height: Int), toWidth width: Int,
        height: Int
    ) -> [UInt8] {
        var (a, b) = (area.height, height)
        while b != 0 { (a, b) = (b, a % b) }
        if 255 * (area.height / a) <= Int(UInt16.max) {
            return resampleOpaque(
                source, sourceWidth: sourceWidth, area: area, toWidth: width, height: height, rowUnit: a,
                lane: UInt16.self)
        }
        // `crop` sends areas taller than `Int32.max / 255` the RGBA way, so each sum fits.
        return resampleOpaque(
            source, sourceWidth: sourceWidth, area: area, toWidth: width, height: height, rowUnit: 1,
            lane: UInt32.self)
    }

    /// The work of ``resampleOpaque(_:sourceWidth:area:toWidth:height:)``, with the row weights
    /// divided by `rowUnit` and one output row's sums of source rows held in `Lane`s.
    private static func resampleOpaque<Lane: FixedWidthInteger & UnsignedInteger>(
        _ source: [UInt8], sourceWidth: Int, area: (x: Int, y: Int, width: Int, height: Int), toWidth width: Int,
        height: Int, rowUnit: Int, lane: Lane.Type
    ) -> [UInt8] {
        let columns = Taps(source: area.width, target: width, offset: 0)
        let rows = Taps(source: area.height, target: height, offset: area.y)
        let span = area.width * 3
        let stride = width * 3
        let total = 255 * area.width * (area.height / rowUnit)
        let half = total / 2
        let divide = Quotient(by: total)
        var pixels = [UInt8](repeating: 0, count: height * stride)
        source.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { out in
                rows.withBuffers { rowStart, rowIndex, rowWeight in
                    columns.withBuffers { start, index, weight in
                        let src = src.baseAddress!
                        let out = out.baseAddress!
                        var line = [Lane](repeating: 0, count: span)
                        line.withUnsafeMutableBufferPointer { line in
                            let line = line.baseAddress!
                            for y in 0..<height {
                                // One output row's source rows, combined.
                                line.update(repeating: 0, count: span)
                                for t in rowStart[y]..<rowStart[y + 1] {
                                    let row = src + (rowIndex[t] * sourceWidth + area.x) * 3
                                    let w = Lane(truncatingIfNeeded: rowWeight[t] / rowUnit)
                                    for i in 0..<span { line[i] &+= w &* Lane(truncatingIfNeeded: row[i]) }
                                }
                                // Then each output pixel's columns, and the division. Each
                                // quotient is at most 255 (the weights add up to `total / 255`),
                                // and no index overflows: the arithmetic is left unchecked.
                                var o = out + y * stride
                                for x in 0..<width {
                                    var r = 0
                                    var g = 0
                                    var b = 0
                                    var t = start[x]
                                    let end = start[x &+ 1]
                                    while t < end {
                                        let p = line + index[t] &* 3
                                        let w = weight[t]
                                        r &+= w &* Int(truncatingIfNeeded: p[0])
                                        g &+= w &* Int(truncatingIfNeeded: p[1])
                                        b &+= w &* Int(truncatingIfNeeded: p[2])
                                        t &+= 1
                                    }
                                    o[0] = UInt8(truncatingIfNeeded: divide(255 &* r &+ half))
                                    o[1] = UInt8(truncatingIfNeeded: divide(255 &* g &+ half))
                                    o[2] = UInt8(truncatingIfNeeded: divide(255 &* b &+ half))
                                    o += 3
                                }
                            }
                        }
                    }
                }
            }
        }
        return pixels
    }

    /// `n / d` (rounded down) for one divisor `d` and any `n` in `0..<2⁴⁸`, by one multiplication
    /// and a shift instead of a division, which takes tens of cycles (a crop divides half a
    /// million times, by the same number).
    ///
    /// Granlund and Montgomery's method: with `l = ⌈log₂ d⌉`, any `k ≥ 48 + l` and
    /// `m = ⌊2ᵏ / d⌋ + 1`, `2ᵏ < m·d ≤ 2ᵏ + 2ˡ ≤ 2ᵏ + 2ᵏ⁻⁴⁸`, and then `⌊n / d⌋ = ⌊m·n / 2ᵏ⌋` for
    /// every such `n`. Taking `k = max(64, 48 + l)` keeps `m` below 2⁶⁴ (for `d ≥ 2`) and makes
    /// the quotient the high word of `m·n` shifted right: no branch in the loop that divides.
    struct Quotient {
        static let bits = 48
        private let multiplier: UInt64
        /// `k − 64`.
        private let shift: UInt64

        init(by divisor: Int) {
            precondition(divisor > 1 && divisor < 1 << 40, "Quotient: divisor out of range")
            let d = UInt64(divisor)
            let l = UInt64.bitWidth - (d - 1).leadingZeroBitCount
            let k = max(64, Self.bits + l)
            shift = UInt64(k - 64)
            // 2^k as (high, low), divided by d: high < d, as dividingFullWidth needs.
            multiplier = d.dividingFullWidth((1 << shift, 0)).quotient + 1
        }

        @inline(__always) func callAsFunction(_ n: Int) -> Int {
            Int(truncatingIfNeeded: multiplier.multipliedFullWidth(by: UInt64(truncatingIfNeeded: n)).high >> shift)
        }
    }
}
