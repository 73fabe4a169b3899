import CLibPNG
import Foundation
import HipChatConnect

/// The format and pixel size of a PNG or JPEG image, read from its header bytes.
///
/// Marketplace listing images are checked by what they really are, never by their file name, and
/// without decoding them: a header is a few dozen bytes, a 1840×900 image is megabytes of pixels.
public struct ImageInfo: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable {
        case png
        case jpeg
    }

    public var format: Format
    public var width: Int
    public var height: Int
    /// A JPEG of four colour components (CMYK or YCCK), which hipkit cannot decode to crop.
    public var isCMYK: Bool

    public init(format: Format, width: Int, height: Int, isCMYK: Bool = false) {
        self.format = format
        self.width = width
        self.height = height
        self.isCMYK = isCMYK
    }

    /// Reads the header of a PNG or JPEG file; nil for anything else, including truncated or
    /// corrupt headers. Never traps and always finishes: every step moves forward through `data`.
    public static func read(_ data: Data) -> ImageInfo? {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> ImageInfo? in
            switch sniff(bytes) {
            case .png: return readPNG(bytes)
            case .jpeg: return readJPEG(bytes)
            case nil: return nil
            }
        }
    }

    /// The format announced by the file's magic bytes alone, so a caller can tell "not an image
    /// we support" apart from "a PNG or JPEG whose header is broken".
    static func sniff(_ data: Data) -> Format? {
        data.withUnsafeBytes { sniff($0) }
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    private static func sniff(_ bytes: UnsafeRawBufferPointer) -> Format? {
        if bytes.count >= 8, bytes.prefix(8).elementsEqual(pngSignature) { return .png }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        return nil
    }

    /// PNG: the signature is followed by the IHDR chunk — length 13, type, then width and height
    /// as big-endian 32-bit numbers (the PNG spec requires IHDR first and both sizes in 1...2³¹−1).
    private static func readPNG(_ bytes: UnsafeRawBufferPointer) -> ImageInfo? {
        guard bytes.count >= 24,
            be32(bytes, 8) == 13,
            bytes[12] == 0x49, bytes[13] == 0x48, bytes[14] == 0x44, bytes[15] == 0x52  // "IHDR"
        else { return nil }
        let width = be32(bytes, 16)
        let height = be32(bytes, 20)
        guard (1...0x7FFF_FFFF).contains(width), (1...0x7FFF_FFFF).contains(height) else { return nil }
        return ImageInfo(format: .png, width: width, height: height)
    }

    /// JPEG: after SOI, walks the marker segments to the first start-of-frame, which holds the
    /// size. Segments before it (APPn for EXIF/JFIF, DQT, DHT, COM…) are skipped by their length.
    private static func readJPEG(_ bytes: UnsafeRawBufferPointer) -> ImageInfo? {
        var i = 2
        while let (marker, next) = marker(in: bytes, at: i) {
            i = next
            if standsAlone(marker) { continue }
            // EOI or start of scan before any frame header: no size to read.
            if marker == 0xD9 || marker == 0xDA { return nil }
            guard let length = segmentLength(in: bytes, at: i) else { return nil }
            if isStartOfFrame(marker) {
                // Length, precision (1 byte), height, width, number of components.
                guard length >= 8, i + 8 <= bytes.count else { return nil }
                let height = be16(bytes, i + 3)
                let width = be16(bytes, i + 5)
                // Height 0 defers it to a DNL marker after the first scan; no listing tool
                // writes that, and its size cannot be known from the header.
                guard width > 0, height > 0 else { return nil }
                return ImageInfo(format: .jpeg, width: width, height: height, isCMYK: bytes[i + 7] == 4)
            }
            i += length
        }
        return nil
    }

    /// The marker code at `i`, after the 0xFF that starts it and any number of 0xFF fill bytes,
    /// and the index after it; nil when `i` holds no marker.
    private static func marker(in bytes: UnsafeRawBufferPointer, at i: Int) -> (code: UInt8, next: Int)? {
        guard i < bytes.count, bytes[i] == 0xFF else { return nil }
        var j = i
        while j < bytes.count, bytes[j] == 0xFF { j += 1 }
        guard j < bytes.count else { return nil }
        return (bytes[j], j + 1)
    }

    /// TEM, RSTn and SOI, the markers without a length (a stray SOI included).
    private static func standsAlone(_ marker: UInt8) -> Bool {
        marker == 0x01 || (0xD0...0xD8).contains(marker)
    }

    /// The length of the segment whose length field is at `i`, which counts itself; nil when it
    /// is cut off or less than 2 (which would not move the walk forward).
    private static func segmentLength(in bytes: UnsafeRawBufferPointer, at i: Int) -> Int? {
        guard i + 2 <= bytes.count else { return nil }
        let length = be16(bytes, i)
        return length >= 2 ? length : nil
    }

    /// Why `data`, an image whose header ``read(_:)`` reads, is not whole, or nil when it is: a
    /// PNG whose chunks run past the end, have a CRC-32 that does not match, or stop before IEND
    /// (``hipkit_png_check``); a JPEG whose data stops before its end-of-image marker. A file cut
    /// short or damaged on the way is found without decoding its pixels.
    public static func damage(in data: Data) -> String? {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> String? in
            switch sniff(bytes) {
            case .png:
                var message = [CChar](repeating: 0, count: 64)
                let base = bytes.bindMemory(to: UInt8.self).baseAddress
                guard hipkit_png_check(base, bytes.count, &message) == 0 else { return nil }
                return message.withUnsafeBytes { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            case .jpeg:
                return jpegIsWhole(bytes) ? nil : "it ends before its end-of-image marker"
            case nil:
                return nil
            }
        }
    }

    /// Whether a JPEG's segments and scans run to an end-of-image marker (FF D9). Inside a
    /// scan's entropy-coded data FF is followed by 00 (a stuffed byte) or a restart marker; any
    /// other marker ends the scan (a progressive file has several, with tables between).
    private static func jpegIsWhole(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 2
        while let (marker, next) = marker(in: bytes, at: i) {
            i = next
            if marker == 0xD9 { return true }
            if standsAlone(marker) { continue }
            guard let length = segmentLength(in: bytes, at: i) else { return false }
            i += length
            guard marker == 0xDA else { continue }
            // The scan's data, up to the next marker that is not a stuffed byte or a restart.
            while i + 1 < bytes.count {
                if bytes[i] == 0xFF, bytes[i + 1] != 0x00, !(0xD0...0xD7).contains(bytes[i + 1]), bytes[i + 1] != 0xFF {
                    break
                }
                i += 1
            }
            guard i + 1 < bytes.count else { return false }
        }
        return false
    }

    /// SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    private static func isStartOfFrame(_ marker: UInt8) -> Bool {
        (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
    }

    private static func be16(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> Int {
        Int(bytes[at]) << 8 | Int(bytes[at + 1])
    }

    private static func be32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> Int {
        Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
    }

    /// Whether `head`, a file's first bytes, starts an image a browser shows that is not a PNG
    /// or a JPEG (which ``read(_:)`` reads): GIF, WebP, AVIF, BMP, ICO or SVG.
    static func isOtherBrowserImage(_ head: Data) -> Bool {
        let bytes = [UInt8](head)
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<offset + prefix.count]) == prefix
        }
        if starts(Array("GIF8".utf8)) || starts([0, 0, 1, 0]) || starts(Array("BM".utf8)) { return true }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return true }
        if starts(Array("ftypavif".utf8), at: 4) || starts(Array("ftypavis".utf8), at: 4) { return true }
        // SVG: XML text whose first element is <svg, after any declaration, comment or doctype.
        let text = String(decoding: bytes, as: UTF8.self).lowercased()
        return text.contains("<svg")
    }
}
