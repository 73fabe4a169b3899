import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// Image headers, decoding and the cropped-highlight maker. Most PNGs here are made by the test
/// through hipkit's own encoder; the JPEGs are small fixtures made once with libjpeg-turbo's cjpeg,
/// and two PNGs (a palette, an interlaced RGB image) are fixtures too.
@Suite struct ImageTests {
    static let red: SIMD4<UInt8> = [220, 30, 40, 255]
    static let blue: SIMD4<UInt8> = [30, 60, 200, 255]
    static let green: SIMD4<UInt8> = [20, 180, 60, 255]

    /// A `width`×`height` opaque image coloured by `colour(x, y)`.
    static func image(_ width: Int, _ height: Int, _ colour: (Int, Int) -> SIMD4<UInt8>) -> RGBAImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        pixels.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                for x in 0..<width {
                    let c = colour(x, y)
                    let i = (y * width + x) * 4
                    out[i] = c.x
                    out[i + 1] = c.y
                    out[i + 2] = c.z
                    out[i + 3] = c.w
                }
            }
        }
        return RGBAImage(width: width, height: height, pixels: pixels)
    }

    /// 1840×900 whose outer 129 columns on each side are red and whose centre is blue: exactly
    /// what a centred 580:330 crop (1582 columns starting at 129) must cut away.
    static func bands() -> RGBAImage {
        image(1840, 900) { x, _ in (129..<1711).contains(x) ? blue : red }
    }

    static func jpegFixture(_ name: String) throws -> Data {
        try Data(contentsOf: TestSupport.fixture("images/" + name))
    }

    /// The chunks of a PNG stream, in order.
    static func chunks(_ png: Data) -> [(type: String, data: [UInt8])] {
        let bytes = [UInt8](png)
        var chunks: [(type: String, data: [UInt8])] = []
        var i = 8
        while i + 12 <= bytes.count {
            let length = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard i + 12 + length <= bytes.count else { break }
            chunks.append(
                (String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self), Array(bytes[(i + 8)..<(i + 8 + length)])))
            i += 12 + length
        }
        return chunks
    }

    static func chunkTypes(_ png: Data) -> [String] { chunks(png).map(\.type) }

    /// A PNG stream of `chunks`, each with its CRC-32 worked out.
    static func png(_ chunks: [(type: String, data: [UInt8])]) -> Data {
        var out = ImageInfo.pngSignature
        for (type, data) in chunks {
            out += bigEndian(UInt32(data.count))
            let body = Array(type.utf8) + data
            out += body + bigEndian(crc32(body))
        }
        return Data(out)
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
    }

    /// `bytes` as a zlib stream of one stored (uncompressed) block.
    static func zlibStored(_ bytes: [UInt8]) -> [UInt8] {
        precondition(bytes.count < 65_536)
        let n = UInt16(bytes.count)
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return [0x78, 0x01, 0x01, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + bytes
            + bigEndian(b << 16 | a)
    }

    /// CRC-32 as PNG (and zlib) computes it, bit by bit.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func isBlueish(_ c: SIMD4<UInt8>) -> Bool { c.z > 160 && c.x < 80 && c.w == 255 }

    // MARK: Headers

    @Test func readsThePNGHeaderOfRealPNGBytes() throws {
        let png = try Self.image(7, 5) { x, y in [UInt8(x * 30), UInt8(y * 50), 0, 255] }.pngData()
        #expect(ImageInfo.read(png) == ImageInfo(format: .png, width: 7, height: 5))
        // A slice that does not start at index 0, as a file read into a bigger buffer would be.
        let padded = Data([1, 2, 3]) + png
        #expect(ImageInfo.read(padded[3...]) == ImageInfo(format: .png, width: 7, height: 5))
        let palette = try Data(contentsOf: TestSupport.fixture("images/palette-4x2.png"))
        #expect(ImageInfo.read(palette) == ImageInfo(format: .png, width: 4, height: 2))
    }

    @Test func readsTheJPEGHeaderPastJFIFAndTables() throws {
        #expect(
            ImageInfo.read(try Self.jpegFixture("bands-1840x900.jpg"))
                == ImageInfo(format: .jpeg, width: 1840, height: 900))
        // Progressive (SOF2), greyscale.
        #expect(
            ImageInfo.read(try Self.jpegFixture("gray-progressive-40x24.jpg"))
                == ImageInfo(format: .jpeg, width: 40, height: 24))
    }

    @Test func walksFillBytesStandaloneMarkersAndLookAlikeSegments() {
        let jpeg = Data([
            0xFF, 0xD8,  // SOI
            0xFF, 0xFF, 0xFF, 0xE1, 0x00, 0x06, 1, 2, 3, 4,  // fill bytes, then APP1 with 4 bytes
            0xFF, 0xD3,  // RST3, no length
            0xFF, 0xC4, 0x00, 0x07, 0, 0x12, 0x34, 0x56, 0x78,  // DHT: C4 is not a frame header
            0xFF, 0xCC, 0x00, 0x04, 0, 0,  // DAC: nor is CC
            0xFF, 0xC2, 0x00, 0x0B, 8, 0x01, 0x2C, 0x02, 0x58, 3, 0, 0, 0,  // SOF2 600×300
        ])
        #expect(ImageInfo.read(jpeg) == ImageInfo(format: .jpeg, width: 600, height: 300))
    }

    @Test func truncatedHeadersGiveNil() throws {
        let png = try Self.image(3, 2) { _, _ in Self.blue }.pngData()
        for n in 0..<24 { #expect(ImageInfo.read(png.prefix(n)) == nil, "PNG cut at \(n)") }
        let jpeg = try Self.jpegFixture("bands-1840x900.jpg")
        let sof = try #require((0..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        // Through the frame header's component count, which tells a CMYK file.
        for n in 0...(sof + 9) { #expect(ImageInfo.read(jpeg.prefix(n)) == nil, "JPEG cut at \(n)") }
        #expect(ImageInfo.read(jpeg.prefix(sof + 10)) != nil)
    }

    @Test func garbageGivesNil() {
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("GIF", Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8)),
            ("text", Array("<svg xmlns='http://www.w3.org/2000/svg'/>".utf8)),
            (
                "PNG without IHDR",
                ImageInfo.pngSignature + [0, 0, 0, 13] + Array("IDAT".utf8) + [0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]
            ),
            (
                "PNG of width 0",
                ImageInfo.pngSignature + [0, 0, 0, 13] + Array("IHDR".utf8) + [0, 0, 0, 0, 0, 0, 0, 1, 8, 6, 0, 0, 0]
            ),
            (
                "PNG of width 2³¹",
                ImageInfo.pngSignature + [0, 0, 0, 13] + Array("IHDR".utf8) + [
                    0x80, 0, 0, 0, 0, 0, 0, 1, 8, 6, 0, 0, 0,
                ]
            ),
            ("JPEG segment of length 0", [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00, 0xFF, 0xC0]),
            ("JPEG segment of length 1", [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0xFF, 0xC0]),
            ("JPEG segment longer than the file", [0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xF0, 0, 0]),
            (
                "JPEG scan before frame",
                [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xC0, 0x00, 0x0B, 8, 0, 1, 0, 1, 1, 0, 0, 0]
            ),
            ("JPEG end before frame", [0xFF, 0xD8, 0xFF, 0xD9]),
            ("JPEG bytes that are not a marker", [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0x12, 0x34]),
            ("JPEG only fill bytes", [0xFF, 0xD8] + Array(repeating: 0xFF, count: 100)),
            ("JPEG frame of height 0", [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 8, 0, 0, 0, 9, 1, 0, 0, 0]),
            ("JPEG frame too short", [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x05, 8, 0, 9, 0, 9]),
        ]
        for (name, bytes) in cases { #expect(ImageInfo.read(Data(bytes)) == nil, "\(name)") }
    }

    /// Random damage to real headers must never trap or hang, whatever it returns.
    @Test func survivesRandomDamage() throws {
        let seeds = [
            try Self.jpegFixture("gray-progressive-40x24.jpg"), try Self.image(3, 2) { _, _ in Self.red }.pngData(),
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for seed in seeds {
            for _ in 0..<2000 {
                var bytes = [UInt8](seed.prefix(200))
                for _ in 0...(next() % 4) { bytes[next() % bytes.count] = UInt8(truncatingIfNeeded: next()) }
                _ = ImageInfo.read(Data(bytes.prefix(next() % (bytes.count + 1))))
            }
        }
    }

    // MARK: Decoding

    @Test func decodesPalettePNGWithTransparency() throws {
        let image = try RGBAImage.decode(try Data(contentsOf: TestSupport.fixture("images/palette-4x2.png")))
        #expect(image.width == 4 && image.height == 2)
        #expect(image.pixel(0, 0) == [255, 0, 0, 255])
        #expect(image.pixel(2, 0) == [0, 0, 255, 255])
        #expect(image.pixel(3, 0).w == 0)
        #expect(image.pixel(3, 1) == [255, 0, 0, 255])
    }

    @Test func decodesJPEG() throws {
        let image = try RGBAImage.decode(try Self.jpegFixture("bands-1840x900.jpg"))
        #expect(image.width == 1840 && image.height == 900)
        let left = image.pixel(40, 450)
        let centre = image.pixel(920, 450)
        #expect(left.x > 180 && left.z < 80, "\(left)")
        #expect(Self.isBlueish(centre), "\(centre)")
        let grey = try RGBAImage.decode(try Self.jpegFixture("gray-progressive-40x24.jpg"))
        #expect(grey.width == 40 && grey.height == 24)
        #expect(grey.pixel(10, 5).x == grey.pixel(10, 5).z)
    }

    @Test func pngRoundTripsPixelsExactly() throws {
        let opaque = Self.image(5, 3) { x, y in [UInt8(x * 50), UInt8(y * 80), UInt8(x * y), 255] }
        let opaquePNG = try opaque.pngData()
        #expect(try RGBAImage.decode(opaquePNG) == opaque)
        #expect(opaquePNG[25] == 2, "an opaque image is written as RGB (colour type 2)")
        let translucent = Self.image(5, 3) { x, y in [200, 100, 0, UInt8(x * 60)] }
        let translucentPNG = try translucent.pngData()
        #expect(try RGBAImage.decode(translucentPNG) == translucent)
        #expect(translucentPNG[25] == 6, "alpha is kept (colour type 6)")
    }

    /// Noise does not deflate: the writer's output outgrows the room it starts with (a third of
    /// the samples) and must grow without losing a byte.
    @Test func pngOfIncompressiblePixelsRoundTrips() throws {
        var state: UInt32 = 2_463_534_242
        let noise = Self.image(96, 64) { _, _ in
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return SIMD4(truncatingIfNeeded: SIMD4(state, state >> 8, state >> 16, state >> 24))
        }
        let png = try noise.pngData()
        #expect(png.count > 96 * 64 * 4, "\(png.count) bytes")
        #expect(try RGBAImage.decode(png) == noise)
    }

    /// The writer must add nothing that varies between runs (no tIME, no text).
    @Test func pngEncodingIsDeterministic() throws {
        let image = Self.bands()
        let first = try image.pngData()
        let second = try image.pngData()
        #expect(first == second)
        let chunks = Set(Self.chunkTypes(first))
        #expect(chunks.isSubset(of: ["IHDR", "sRGB", "gAMA", "cHRM", "IDAT", "IEND"]), "\(chunks)")
    }

    // MARK: Cropping

    @Test func centreCropArea() {
        #expect(
            ImageCropper.cropArea(width: 1840, height: 900, aspectWidth: 580, aspectHeight: 330) == (129, 0, 1582, 900))
        #expect(
            ImageCropper.cropArea(width: 900, height: 1840, aspectWidth: 580, aspectHeight: 330) == (0, 664, 900, 512))
        #expect(
            ImageCropper.cropArea(width: 1160, height: 660, aspectWidth: 580, aspectHeight: 330) == (0, 0, 1160, 660))
    }

    @Test func cropsA1840x900PNGToExactly580x330() throws {
        let png = try Self.bands().pngData()
        let cropped = try ImageCropper.crop(png, toWidth: 580, height: 330)
        #expect(ImageInfo.read(cropped) == ImageInfo(format: .png, width: 580, height: 330))
    }

    @Test func cropsAJPEG() throws {
        let cropped = try ImageCropper.crop(try Self.jpegFixture("bands-1840x900.jpg"), toWidth: 580, height: 330)
        #expect(ImageInfo.read(cropped) == ImageInfo(format: .png, width: 580, height: 330))
        let image = try RGBAImage.decode(cropped)
        for (x, y) in [(0, 0), (579, 0), (0, 329), (579, 329), (290, 165)] {
            #expect(Self.isBlueish(image.pixel(x, y)), "pixel \(x),\(y) is \(image.pixel(x, y))")
        }
    }

    @Test func cropIsDeterministic() throws {
        let jpeg = try Self.jpegFixture("bands-1840x900.jpg")
        #expect(
            try ImageCropper.crop(jpeg, toWidth: 580, height: 330) == ImageCropper.crop(jpeg, toWidth: 580, height: 330)
        )
        let png = try Self.bands().pngData()
        #expect(
            try ImageCropper.crop(png, toWidth: 580, height: 330) == ImageCropper.crop(png, toWidth: 580, height: 330))
    }

    /// The red side bands lie exactly outside the centred crop, so not a trace of red may remain.
    @Test func cropTakesTheCentre() throws {
        let cropped = try RGBAImage.decode(try ImageCropper.crop(try Self.bands().pngData(), toWidth: 580, height: 330))
        for (x, y) in [(0, 0), (579, 0), (0, 329), (579, 329), (290, 165)] {
            #expect(cropped.pixel(x, y) == Self.blue, "pixel \(x),\(y)")
        }
        // Portrait sources lose their top and bottom instead: 900×1840 keeps rows 664..<1176.
        let tall = Self.image(900, 1840) { _, y in (664..<1176).contains(y) ? Self.blue : Self.green }
        let fromTall = try ImageCropper.crop(tall, toWidth: 580, height: 330)
        for (x, y) in [(0, 0), (579, 0), (0, 329), (579, 329)] {
            #expect(fromTall.pixel(x, y) == Self.blue, "pixel \(x),\(y)")
        }
    }

    @Test func areaAverageWeighsPartlyCoveredPixels() throws {
        // 3 columns to 2: output 0 is ⅔ of column 0 and ⅓ of column 1, output 1 the mirror.
        let ramp = Self.image(3, 3) { x, _ in [UInt8(x * 90), 0, 0, 255] }
        let half = try ImageCropper.crop(ramp, toWidth: 2, height: 2)
        #expect(half.pixel(0, 0) == [30, 0, 0, 255])
        #expect(half.pixel(1, 1) == [150, 0, 0, 255])
        // Black and white columns average to mid grey (127.5 rounds up).
        let stripes = Self.image(4, 2) { x, _ in x % 2 == 0 ? [0, 0, 0, 255] : [255, 255, 255, 255] }
        #expect(try ImageCropper.crop(stripes, toWidth: 2, height: 1).pixel(0, 0) == [128, 128, 128, 255])
    }

    /// An RGB PNG is cropped without an alpha channel; the crop must be the one the RGBA road
    /// makes of the same image, byte for byte, whatever the sizes and colours.
    @Test(arguments: [(1840, 900), (1161, 661), (580, 330), (3001, 500), (700, 2003), (611, 347)])
    func rgbCropsEqualTheRGBARoad(_ size: (Int, Int)) throws {
        var state = UInt64(size.0 * 7919 + size.1)
        let noisy = Self.image(size.0, size.1) { x, y in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let n = UInt8(truncatingIfNeeded: state >> 56)
            return [UInt8(truncatingIfNeeded: x &* 7) ^ n, UInt8(truncatingIfNeeded: y &* 3), n, 255]
        }
        let png = try noisy.pngData()
        #expect(try RGBAImage.decodeRGB(png) != nil, "not an RGB PNG, so not the RGB road")
        let viaRGBA = try ImageCropper.crop(try RGBAImage.decode(png), toWidth: 580, height: 330).pngData()
        #expect(try ImageCropper.crop(png, toWidth: 580, height: 330) == viaRGBA)
    }

    /// The crop's division by multiplication equals integer division over its whole range.
    @Test func quotientEqualsDivision() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        // Its divisor is 255 times an area, never 1; from 2 on it holds.
        var divisors = [2, 3, 7, 255, 256, 1 << 20, (1 << 40) - 1, 255 * 1582 * 900, 255 * 40_000_000]
        divisors += (0..<200).map { _ in Int(next() % ((1 << 40) - 2)) + 2 }
        divisors += (1..<40).flatMap { [(1 << $0) - 1, 1 << $0, (1 << $0) + 1] }.filter { $0 >= 2 && $0 < 1 << 40 }
        for d in divisors {
            let quotient = ImageCropper.Quotient(by: d)
            var numerators = [0, 1, d - 1, d, d + 1, (1 << 48) - 1, (1 << 48) - 1 - (1 << 48) % d]
            numerators += (0..<500).map { _ in Int(next() % (1 << 48)) }
            numerators += (0..<100).map { _ in Int(next() % 256) * d + d - 1 }.filter { $0 < 1 << 48 }
            for n in numerators where n >= 0 {
                #expect(quotient(n) == n / d, "\(n) / \(d)")
            }
        }
    }

    @Test func onlyRGBPNGsTakeTheRGBRoad() throws {
        let translucent = Self.image(4, 4) { x, _ in [200, 10, 10, x == 0 ? 128 : 255] }
        #expect(try RGBAImage.decodeRGB(try translucent.pngData()) == nil)
        #expect(try RGBAImage.decodeRGB(try Data(contentsOf: TestSupport.fixture("images/palette-4x2.png"))) == nil)
        #expect(try RGBAImage.decodeRGB(try Self.jpegFixture("bands-1840x900.jpg")) == nil)
        // A damaged RGB PNG is refused as the RGBA road refuses it.
        let cut = try Self.image(40, 20) { x, _ in [UInt8(x), 9, 9, 255] }.pngData().prefix(60)
        #expect(throws: ImageError.self) { try RGBAImage.decodeRGB(cut) }
        #expect(throws: ImageError.self) { try ImageCropper.crop(cut, toWidth: 20, height: 10) }
    }

    /// The RGB road reads the pixels the RGBA road reads: of an interlaced file too, and of one
    /// tagged with sRGB's gamma; a file whose gamma libpng converts goes the RGBA road instead.
    @Test func theRGBRoadReadsWhatTheRGBARoadReads() throws {
        func rgb(_ image: RGBAImage) -> [UInt8] {
            image.pixels.enumerated().filter { $0.offset % 4 != 3 }.map(\.element)
        }
        let interlaced = try Data(contentsOf: TestSupport.fixture("images/interlaced-rgb-13x11.png"))
        let read = try #require(try RGBAImage.decodeRGB(interlaced))
        #expect(read.pixels == rgb(try RGBAImage.decode(interlaced)))
        #expect(Array(read.pixels[(4 * 13 + 5) * 3..<(4 * 13 + 5) * 3 + 3]) == [123, 37, 140], "pixel 5,4")

        // hipkit's PNGs say sRGB; without that chunk, a gAMA chunk decides.
        let plain = try Self.image(40, 20) { x, y in [UInt8(x * 6), UInt8(y * 12), 90, 255] }.pngData()
        let untagged = Self.chunks(plain).filter { $0.type != "sRGB" }
        func withGamma(_ gamma: UInt32) -> Data {
            Self.png([untagged[0], ("gAMA", Self.bigEndian(gamma))] + untagged.dropFirst())
        }
        let expected = rgb(try RGBAImage.decode(plain))
        #expect(try RGBAImage.decodeRGB(withGamma(45_455))?.pixels == expected)
        let mac = withGamma(55_556)  // 1/1.8, converted to sRGB by libpng
        #expect(try RGBAImage.decodeRGB(mac) == nil)
        #expect(rgb(try RGBAImage.decode(mac)) != expected)
        // Nothing after the last row is read, on either road: a file without IEND gives its pixels.
        let noEnd = Self.png(Self.chunks(plain).filter { $0.type != "IEND" })
        #expect(try RGBAImage.decodeRGB(noEnd)?.pixels == expected)
    }

    /// A 16-bit PNG with no gAMA or sRGB chunk is sRGB-encoded, as browsers show it: libpng's
    /// default took it as linear, and its crop came out lighter (127 became 186).
    @Test func sixteenBitSamplesWithoutGammaAreSRGB() throws {
        let row: [UInt8] = [0] + [UInt8](repeating: 0x7F, count: 4 * 6)  // filter byte, 4 pixels of 3×16 bits
        let png = Self.png([
            ("IHDR", Self.bigEndian(4) + Self.bigEndian(2) + [16, 2, 0, 0, 0]), ("IDAT", Self.zlibStored(row + row)),
            ("IEND", []),
        ])
        let image = try RGBAImage.decode(png)
        #expect(image.pixel(0, 0) == [127, 127, 127, 255])
        #expect(image.pixel(3, 1) == [127, 127, 127, 255])
    }

    /// A truncated or changed file is found from its structure, without decoding its pixels.
    @Test func damageIsFoundWithoutDecoding() throws {
        let png = try Self.image(40, 20) { x, y in [UInt8(x * 6), UInt8(y * 12), 90, 255] }.pngData()
        #expect(ImageInfo.damage(in: png) == nil)
        #expect(ImageInfo.damage(in: png.prefix(png.count - 20)) == "it ends inside its IDAT chunk")
        var changed = png
        changed[changed.count - 24] ^= 0xFF
        #expect(ImageInfo.damage(in: changed) == "the CRC of its IDAT chunk does not match")
        #expect(ImageInfo.damage(in: png.prefix(png.count - 12)) == "it ends before its IEND chunk")

        for name in ["bands-1840x900.jpg", "gray-progressive-40x24.jpg", "cmyk-1840x900.jpg"] {
            let jpeg = try Self.jpegFixture(name)
            #expect(ImageInfo.damage(in: jpeg) == nil, "\(name)")
            for cut in [jpeg.count - 2, jpeg.count * 2 / 3, 200] {
                #expect(
                    ImageInfo.damage(in: jpeg.prefix(cut)) == "it ends before its end-of-image marker",
                    "\(name) at \(cut)")
            }
        }
    }

    /// A CMYK JPEG cannot be cropped, and the header says so: `hipkit validate` refuses it as the
    /// build does.
    @Test func aCMYKJPEGIsRefusedFromItsHeader() throws {
        let cmyk = try #require(ImageInfo.read(try Self.jpegFixture("cmyk-1840x900.jpg")))
        #expect(cmyk.isCMYK)
        #expect(try #require(ImageInfo.read(try Self.jpegFixture("bands-1840x900.jpg"))).isCMYK == false)
        let fromHeader = #expect(throws: ImageError.self) { try ImageCropper.check(cmyk, toWidth: 580, height: 330) }
        let fromDecoder = #expect(throws: ImageError.self) {
            try ImageCropper.crop(try Self.jpegFixture("cmyk-1840x900.jpg"), toWidth: 580, height: 330)
        }
        #expect(fromHeader?.kind == .unsupportedFormat)
        #expect(fromHeader?.description == fromDecoder?.description)
        #expect(fromHeader?.description.contains("CMYK JPEG images are not supported") == true)
    }

    /// The RGB road checks every chunk's CRC-32 but not the zlib stream's Adler-32, which covers
    /// the same bytes again.
    @Test func theRGBRoadChecksCRCsNotTheAdlerSum() throws {
        let plain = try Self.image(40, 20) { x, y in [UInt8(x * 6), UInt8(y * 12), 90, 255] }.pngData()
        var chunks = Self.chunks(plain)
        let idat = try #require(chunks.firstIndex { $0.type == "IDAT" })
        chunks[idat].data[chunks[idat].data.count - 1] ^= 0xFF
        let wrongSum = Self.png(chunks)
        let expected = try #require(try RGBAImage.decodeRGB(plain))
        #expect(try #require(try RGBAImage.decodeRGB(wrongSum)).pixels == expected.pixels)
        // A changed byte whose CRC was not mended is refused.
        var wrongCRC = plain
        wrongCRC[wrongCRC.count - 24] ^= 0xFF
        #expect(throws: ImageError.self) { try RGBAImage.decodeRGB(wrongCRC) }
    }

    /// Damage anywhere in an RGB PNG, CRC-32s mended or not (so libpng reads damaged headers and
    /// deflate data), gives an error or an image of the header's size, never a crash.
    @Test func damagedRGBPNGsAreRefusedOrRead() throws {
        let plain = try Self.image(24, 16) { x, y in [UInt8(x * 9), UInt8(y * 15), UInt8(x ^ y), 255] }.pngData()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for round in 0..<3000 {
            var bytes = [UInt8](plain)
            for _ in 0...(next() % 4) { bytes[8 + next() % (bytes.count - 8)] = UInt8(truncatingIfNeeded: next()) }
            var damaged = Data(bytes)
            if round % 2 == 0 { damaged = Self.png(Self.chunks(damaged)) }
            do {
                if let read = try RGBAImage.decodeRGB(damaged) {
                    #expect(read.pixels.count == read.width * read.height * 3, "round \(round)")
                }
            } catch let error as ImageError {
                #expect(error.kind == .corrupt || error.kind == .tooLarge, "round \(round): \(error)")
            }
        }
    }

    @Test func transparentPixelsDoNotDarkenTheirNeighbours() throws {
        let half = Self.image(2, 2) { x, _ in x == 0 ? [255, 0, 0, 255] : [0, 0, 0, 0] }
        #expect(try ImageCropper.crop(half, toWidth: 1, height: 1).pixel(0, 0) == [255, 0, 0, 128])
    }

    // MARK: Errors

    @Test func refusesWhatItCannotUse() throws {
        func kind(_ data: Data, _ width: Int = 580, _ height: Int = 330) -> ImageError.Kind? {
            do {
                _ = try ImageCropper.crop(data, toWidth: width, height: height)
                return nil
            } catch let error as ImageError {
                #expect(!error.description.isEmpty)
                return error.kind
            } catch {
                return nil
            }
        }
        #expect(kind(Data("GIF89a".utf8)) == .unsupportedFormat)
        #expect(kind(Data()) == .unsupportedFormat)

        let png = try Self.bands().pngData()
        #expect(kind(png.prefix(40)) == .corrupt)
        #expect(kind(png.prefix(png.count / 2)) == .corrupt)
        var damaged = png
        damaged[png.count / 2] ^= 0xFF
        #expect(kind(damaged) == .corrupt)
        let jpeg = try Self.jpegFixture("bands-1840x900.jpg")
        #expect(kind(jpeg.prefix(300)) == .corrupt)

        #expect(kind(try Self.image(400, 300) { _, _ in Self.blue }.pngData()) == .tooSmall)

        // Headers announcing huge images are refused before anything is allocated.
        let hugePNG = Data(
            ImageInfo.pngSignature + [0, 0, 0, 13] + Array("IHDR".utf8) + [
                0, 0x01, 0x86, 0xA0, 0, 0x01, 0x86, 0xA0, 8, 6, 0, 0, 0,
            ] + [0, 0, 0, 0])
        #expect(kind(hugePNG) == .tooLarge)
        let hugeJPEG = Data([
            0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 8, 0xFF, 0xFF, 0xFF, 0xFF, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
        ])
        #expect(kind(hugeJPEG) == .tooLarge)
        #expect(kind(png, 10_000, 10_000) == .tooLarge)
    }
}
