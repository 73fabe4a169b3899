import CLibPNG
import CTurboJPEG
import Foundation
import HipChatConnect

/// A decoded image: 8-bit sRGB red, green, blue, alpha per pixel, rows top to bottom, no padding.
///
/// Decoding goes through libpng's simplified API and TurboJPEG, which handle every bit depth,
/// palette, interlacing, gamma and chroma-subsampling variant, so hipkit only ever sees RGBA8.
struct RGBAImage: Sendable, Hashable {
    /// Decoding refuses images with more pixels than this (40 megapixels, 160 MB decoded): a
    /// small file can announce a huge size, and a listing image never needs to be that big.
    static let maxPixels = 40_000_000

    var width: Int
    var height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(
            width > 0 && height > 0 && pixels.count == width * height * 4,
            "RGBAImage: pixel count does not match \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The pixel at column `x`, row `y` as (r, g, b, a).
    func pixel(_ x: Int, _ y: Int) -> SIMD4<UInt8> {
        let i = (y * width + x) * 4
        return SIMD4(pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3])
    }

    /// True when no pixel is even partly transparent, so the alpha channel can be left out.
    var isOpaque: Bool {
        pixels.withUnsafeBufferPointer { p in
            stride(from: 3, to: p.count, by: 4).allSatisfy { p[$0] == 255 }
        }
    }

    // MARK: Decoding

    /// PNG_FORMAT_RGBA, spelled out: Swift does not import macros built from other macros.
    private static let formatRGBA = png_uint_32(PNG_FORMAT_RGB | PNG_FORMAT_FLAG_ALPHA)

    /// Decodes PNG or JPEG `data`, recognised by its signature bytes.
    static func decode(_ data: Data) throws -> RGBAImage {
        guard let format = ImageInfo.sniff(data) else {
            throw ImageError(.unsupportedFormat, "not a PNG or JPEG image")
        }
        // The header check is cheap and catches absurd sizes before any library allocates.
        guard let info = ImageInfo.read(data) else {
            throw ImageError(.corrupt, "the \(format.name) header is damaged or truncated")
        }
        try checkSize(info.width, info.height, format)
        switch format {
        case .png: return try decodePNG(data)
        case .jpeg: return try decodeJPEG(data)
        }
    }

    private static func checkSize(_ width: Int, _ height: Int, _ format: ImageInfo.Format) throws {
        // Each side is checked first, so the product cannot overflow.
        guard width <= maxPixels, height <= maxPixels, width * height <= maxPixels else {
            throw ImageError(
                .tooLarge,
                "the \(format.name) image is \(width)×\(height) pixels; hipkit reads images of at most \(maxPixels / 1_000_000) megapixels"
            )
        }
    }

    /// `data` through libpng's simplified reader: any colour type, bit depth or gamma comes out
    /// as 8-bit sRGB with alpha.
    private static func decodePNG(_ data: Data) throws -> RGBAImage {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        // Frees libpng's state on every path; a no-op once finish_read has cleaned up itself.
        defer { png_image_free(&image) }
        // libpng keeps pointing into `data` between begin and finish, so both happen in one
        // withUnsafeBytes.
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw ImageError(.corrupt, "the PNG data is damaged: \(message(of: image))")
            }
            image.format = formatRGBA
            // 16-bit samples with no gAMA or sRGB chunk are sRGB-encoded, as browsers show them;
            // libpng would take them as linear and make the crop of a screenshot lighter.
            image.flags |= png_uint_32(PNG_IMAGE_FLAG_16BIT_sRGB)
            let width = Int(image.width)
            let height = Int(image.height)
            try checkSize(width, height, .png)
            // libpng writes every byte, so the buffer is not cleared first.
            var finished: Int32 = 0
            let byteCount = width * height * 4
            let pixels = [UInt8](unsafeUninitializedCapacity: byteCount) { out, count in
                finished = png_image_finish_read(&image, nil, out.baseAddress, 0, nil)
                count = finished != 0 ? byteCount : 0
            }
            guard finished != 0 else {
                throw ImageError(.corrupt, "the PNG data is damaged: \(message(of: image))")
            }
            return RGBAImage(width: width, height: height, pixels: pixels)
        }
    }

    /// The pixels of `data` as 8-bit red, green, blue (3 bytes a pixel) when it is a PNG stored
    /// exactly so, with no alpha, palette, grey, 16-bit samples or gamma to convert: they are what
    /// ``decode(_:)`` gives without the alpha of 255 it adds, read by ``hipkit_png_read_rgb``,
    /// which copies libpng's rows as they are and skips the zlib stream's Adler-32 (every chunk's
    /// CRC-32 is still checked). Nil for any other image. Screenshots saved as RGB (the `full`
    /// scaffold's highlights among them) take this road to their crop.
    static func decodeRGB(_ data: Data) throws -> (width: Int, height: Int, pixels: [UInt8])? {
        guard ImageInfo.sniff(data) == .png, let info = ImageInfo.read(data) else { return nil }
        try checkSize(info.width, info.height, .png)
        let byteCount = info.width * info.height * 3
        var status: Int32 = 0
        var message = [CChar](repeating: 0, count: 64)
        let pixels = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            // libpng writes every byte when it reads, so the buffer is not cleared first.
            [UInt8](unsafeUninitializedCapacity: byteCount) { out, count in
                status = hipkit_png_read_rgb(
                    raw.bindMemory(to: UInt8.self).baseAddress, raw.count, png_uint_32(info.width),
                    png_uint_32(info.height), out.baseAddress, &message)
                count = status == 1 ? byteCount : 0
            }
        }
        switch status {
        case 1: return (info.width, info.height, pixels)
        case -1: return nil
        default:
            throw ImageError(
                .corrupt, "the PNG data is damaged: \(message.withUnsafeBytes { Self.message(in: $0) })")
        }
    }

    /// libpng's error text, kept in a fixed 64-byte field of the png_image.
    private static func message(of image: png_image) -> String {
        withUnsafeBytes(of: image.message) { message(in: $0) }
    }

    /// The NUL-terminated text in `bytes` (libpng's or ``hipkit_png_write``'s message).
    private static func message(in bytes: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        return text.isEmpty ? "unknown libpng error" : text
    }

    /// What decoding, and ``ImageCropper/check(_:toWidth:height:)`` from the header, say of a
    /// CMYK or YCCK JPEG.
    static let cmykError = ImageError(.unsupportedFormat, "CMYK JPEG images are not supported; save the image as RGB")

    private static func decodeJPEG(_ data: Data) throws -> RGBAImage {
        guard let handle = tjInitDecompress() else {
            throw ImageError(.corrupt, "cannot start the JPEG decoder")
        }
        defer { tjDestroy(handle) }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> RGBAImage in
            let jpeg = raw.bindMemory(to: UInt8.self)
            var width: Int32 = 0
            var height: Int32 = 0
            var subsampling: Int32 = 0
            var colorspace: Int32 = 0
            guard
                tjDecompressHeader3(
                    handle, jpeg.baseAddress, UInt(jpeg.count), &width, &height, &subsampling, &colorspace) == 0
            else {
                throw ImageError(.corrupt, "the JPEG data is damaged: \(String(cString: tjGetErrorStr2(handle)))")
            }
            if colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue) {
                throw cmykError
            }
            try checkSize(Int(width), Int(height), .jpeg)
            // libjpeg-turbo writes every byte, so the buffer is not cleared first.
            // ACCURATEDCT: the integer IDCT, whose SIMD and plain-C versions give identical
            // pixels, so output does not depend on the CPU. LIMITSCANS: refuse progressive files
            // with absurd scan counts that would take minutes to decode. STOPONWARNING: libjpeg
            // only warns about a truncated file and fills the rest with grey; a listing image
            // made from that would be wrong, so any warning is an error.
            let flags = Int32(TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS | TJFLAG_STOPONWARNING)
            var status: Int32 = -1
            let byteCount = Int(width) * Int(height) * 4
            let pixels = [UInt8](unsafeUninitializedCapacity: byteCount) { out, count in
                status = tjDecompress2(
                    handle, jpeg.baseAddress, UInt(jpeg.count), out.baseAddress, width, 0, height,
                    Int32(TJPF_RGBA.rawValue), flags)
                count = status == 0 ? byteCount : 0
            }
            guard status == 0 else {
                throw ImageError(.corrupt, "the JPEG data is damaged: \(String(cString: tjGetErrorStr2(handle)))")
            }
            return RGBAImage(width: Int(width), height: Int(height), pixels: pixels)
        }
    }

    // MARK: Encoding

    /// Encodes as PNG: RGB when every pixel is opaque (smaller), RGBA otherwise.
    ///
    /// No timestamp or other varying chunk is written, so the same pixels always give the same
    /// bytes (for a given zlib version).
    func pngData() throws -> Data {
        if isOpaque {
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            pixels.withUnsafeBufferPointer { rgba in
                rgb.withUnsafeMutableBufferPointer { out in
                    for p in 0..<(width * height) {
                        out[p * 3] = rgba[p * 4]
                        out[p * 3 + 1] = rgba[p * 4 + 1]
                        out[p * 3 + 2] = rgba[p * 4 + 2]
                    }
                }
            }
            return try Self.pngData(samples: rgb, channels: 3, width: width, height: height)
        }
        return try Self.pngData(samples: pixels, channels: 4, width: width, height: height)
    }

    /// Encodes `samples`, 3 (RGB) or 4 (RGBA) bytes a pixel, as PNG.
    ///
    /// Every row is filtered with Paeth (``hipkit_png_write``): libpng's simplified writer tries
    /// all five filters on each row, which cost the three crops of the `full` scaffold 85 M of
    /// their 234 M instructions of encoding, for files 0–2% smaller.
    static func pngData(samples: [UInt8], channels: Int, width: Int, height: Int) throws -> Data {
        precondition(
            (channels == 3 || channels == 4) && width > 0 && height > 0 && samples.count == width * height * channels,
            "RGBAImage: sample count does not match \(width)×\(height)×\(channels)")
        // Room for a third of the raw rows to start with: a photograph deflates to about that.
        var output = hipkit_png_output(bytes: nil, count: 0, capacity: samples.count / 3 + 1024)
        defer { free(output.bytes) }
        var message = [CChar](repeating: 0, count: 64)
        let ok = samples.withUnsafeBufferPointer { samples in
            hipkit_png_write(
                samples.baseAddress, Int32(channels), png_uint_32(width), png_uint_32(height), &output, &message)
        }
        guard ok != 0, let bytes = output.bytes else {
            throw ImageError(.corrupt, "cannot encode PNG: \(message.withUnsafeBytes { Self.message(in: $0) })")
        }
        return Data(bytes: bytes, count: output.count)
    }
}

extension ImageInfo.Format {
    /// The name users know the format by, for messages.
    var name: String {
        switch self {
        case .png: "PNG"
        case .jpeg: "JPEG"
        }
    }
}
