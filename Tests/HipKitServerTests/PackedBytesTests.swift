import Foundation
import NIOCore
import Testing

@testable import HipKitServer

/// The bytes of in-memory files, packed into large buffers: each file's slice is its bytes, and
/// the buffers take about what the bytes do.
@Suite struct PackedBytesTests {
    static func bytes(_ count: Int, seed: Int) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) })
    }

    @Test func eachSliceIsItsBytesAndTheBuffersTakeAboutWhatTheBytesDo() {
        // Pages just over a power of two (9 KB each took 16 KB alone), a large file, an empty one.
        let sizes = Array(repeating: 9_000, count: 1_000) + [300_000, 0, 5]
        let inputs = sizes.enumerated().map { Self.bytes($0.element, seed: $0.offset) }
        var packer = PackedBytes()
        let places = inputs.map { packer.add($0) }
        packer.finish()
        for (input, place) in zip(inputs, places) {
            #expect(packer.slice(place) == input)
        }
        let total = sizes.reduce(0, +)
        let alone = inputs.reduce(0) { $0 + $1.capacity }
        #expect(alone > total * 3 / 2)
        #expect(packer.bufferBytes < total + 2 * PackedBytes.chunkSize, "\(packer.bufferBytes) for \(total) bytes")
    }

    @Test func packedFilesAnswerTheirOwnBytesAndGzip() throws {
        let site = try TestSite()
        defer { site.remove() }
        let loaded = try SiteLoader(dist: site.dist).load()
        let originals = loaded.files
        var packed = originals
        StaticFile.pack(&packed)
        #expect(packed.count == originals.count)
        for (path, file) in originals {
            switch (file.storage, packed[path]!.storage) {
            case (.memory(let bytes, let gzip), .memory(let packedBytes, let packedGzip)):
                #expect(bytes == packedBytes, "\(path)")
                #expect(gzip == packedGzip, "\(path)")
            case (.disk(let a), .disk(let b)):
                #expect(a == b)
            default:
                Issue.record("\(path) changed its storage")
            }
        }
    }

    /// Packing works on copies of a snapshot's files, which share each file's fields with the
    /// snapshot (one object) until a field is set: the snapshot's own files keep their buffers.
    @Test func packingCopiesLeavesTheSnapshotsFilesAlone() throws {
        let site = try TestSite()
        defer { site.remove() }
        let originals = try SiteLoader(dist: site.dist).load().files
        func address(_ file: StaticFile) -> UnsafeRawPointer? {
            guard case .memory(let bytes, _) = file.storage else { return nil }
            return bytes.withUnsafeReadableBytes { $0.baseAddress.map { UnsafeRawPointer($0) } }
        }
        let before = originals.mapValues(address)
        var packed = originals
        StaticFile.pack(&packed)
        var compared = 0
        for (path, file) in originals {
            guard let was = before[path] ?? nil else { continue }
            #expect(address(file) == was, "\(path): the snapshot's file now reads another buffer")
            #expect(address(packed[path]!) != was, "\(path): the packed copy kept the snapshot's buffer")
            compared += 1
        }
        #expect(compared > 0)
    }
}
