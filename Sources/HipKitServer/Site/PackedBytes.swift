import NIOCore

/// The bytes of the files a snapshot holds in memory, packed into a few large buffers that each
/// file's answer is a slice of.
///
/// Why: a `ByteBuffer`'s storage is allocated at the next power of two of what it holds, so a
/// 9 KB page took 16 KB and its 3 KB gzip 4 KB. On the bench's 1,000-page site that rounding
/// alone was 6 MB of the server's 27 MB of heap. A slice shares its buffer's storage (nothing is
/// copied to answer it), and a buffer of ``chunkSize`` is exactly that size.
///
/// Slices are taken only once every buffer is full (``finish()``): a buffer written to while a
/// slice of it exists would be copied whole.
struct PackedBytes {
    /// The size of each buffer: a power of two, so that none of it is rounding.
    static let chunkSize = 1 << 20
    /// Bytes larger than this get a buffer of their own, so that a buffer is not mostly left
    /// empty by one large file that does not fit after the others.
    static let ownBufferAbove = chunkSize / 8

    /// Where ``add(_:)`` put some bytes; ``slice(_:)`` gives them once finished.
    struct Place {
        fileprivate var chunk: Int
        fileprivate var offset: Int
        fileprivate var length: Int
    }

    private var chunks: [ByteBuffer] = []
    /// The index in `chunks` of the buffer being filled, if any.
    private var filling: Int?
    private var finished = false

    mutating func add(_ bytes: ByteBuffer) -> Place {
        precondition(!finished, "bytes are added before finish()")
        let length = bytes.readableBytes
        if length > Self.ownBufferAbove {
            chunks.append(bytes)
            return Place(chunk: chunks.count - 1, offset: bytes.readerIndex, length: length)
        }
        if let index = filling, chunks[index].writableBytes >= length {
            let offset = chunks[index].writerIndex
            chunks[index].writeImmutableBuffer(bytes)
            return Place(chunk: index, offset: offset, length: length)
        }
        var chunk = ByteBufferAllocator().buffer(capacity: Self.chunkSize)
        chunk.writeImmutableBuffer(bytes)
        chunks.append(chunk)
        filling = chunks.count - 1
        return Place(chunk: chunks.count - 1, offset: 0, length: length)
    }

    /// Ends the adding; slices may be taken from now on.
    mutating func finish() {
        finished = true
        filling = nil
    }

    /// The memory the buffers take.
    var bufferBytes: Int { chunks.reduce(0) { $0 + $1.capacity } }

    func slice(_ place: Place) -> ByteBuffer {
        precondition(finished, "slices are taken after finish()")
        return chunks[place.chunk].getSlice(at: place.offset, length: place.length)!
    }
}

extension StaticFile {
    /// Packs the bytes of the `files` held in memory, and their answers' heads (see
    /// ``PackedBytes``): every file is repacked, kept ones too, so that a buffer of an older
    /// snapshot is not kept alive by one file of it still served. The buffers the files had are
    /// then free but spread through the heap, where glibc keeps their pages unless asked: they are
    /// given back.
    static func pack(_ files: inout [String: StaticFile]) {
        var packer = PackedBytes()
        typealias Pair = (PackedBytes.Place, PackedBytes.Place?)
        var places: [String: (bytes: Pair, heads: Pair?)] = [:]
        // In path order, so that the layout does not depend on the dictionary's.
        for path in files.keys.sorted() {
            guard case .memory(let bytes, let gzip) = files[path]!.storage else { continue }
            places[path] = (
                (packer.add(bytes), gzip.map { packer.add($0) }),
                files[path]!.wireHeads.map { (packer.add($0.identity), $0.gzip.map { packer.add($0) }) }
            )
        }
        packer.finish()
        for (path, place) in places {
            files[path]!.storage = .memory(packer.slice(place.bytes.0), gzip: place.bytes.1.map(packer.slice))
            if let heads = place.heads { files[path]!.wireHeads = (packer.slice(heads.0), heads.1.map(packer.slice)) }
        }
        #if os(Linux)
            malloc_trim(0)
        #endif
    }
}
