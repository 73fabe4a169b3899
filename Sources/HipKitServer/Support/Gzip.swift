import Foundation
import HipChatConnect
import ZIPFoundation

/// gzip (RFC 1952) of a buffer: ZIPFoundation's raw deflate (zlib underneath) inside a gzip
/// header and trailer. Files are compressed once, when `dist/` is indexed, never per request.
enum Gzip {
    static func compress(_ data: Data) -> Data? {
        var deflated = Data()
        let crc: CRC32
        do {
            crc = try Data.compress(
                size: Int64(data.count), bufferSize: 64 * 1024,
                provider: { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                },
                consumer: { chunk in
                    deflated.append(chunk)
                })
        } catch {
            return nil
        }
        // Header: magic, deflate, no flags, no mtime (so the same input gives the same bytes),
        // no extra flags, OS unknown.
        var out = Data([0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF])
        out.append(deflated)
        appendLittleEndian(crc, to: &out)
        appendLittleEndian(UInt32(truncatingIfNeeded: data.count), to: &out)
        return out
    }

    private static func appendLittleEndian(_ value: UInt32, to data: inout Data) {
        data.append(UInt8(value & 0xFF))
        data.append(UInt8((value >> 8) & 0xFF))
        data.append(UInt8((value >> 16) & 0xFF))
        data.append(UInt8((value >> 24) & 0xFF))
    }
}
