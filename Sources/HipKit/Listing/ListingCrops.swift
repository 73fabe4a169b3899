import Foundation
import HipChatConnect

/// The 580×330 crops of the listing's highlights, made in the background from the start of a
/// build and taken by ``BuildStep/listing`` near its end.
///
/// Making a crop (decode, resample, encode) is most of a build with a listing, and it needs
/// nothing the rest of the build makes: started first, it runs beside the pages instead of after
/// them. With a cache folder, a crop is made once per source image: it is kept under
/// `.hipkit/cache/crops`, keyed by a SHA-256 of the source's bytes and the size.
final class ListingCrops: Sendable {
    /// Bump when cropping changes in a way keys do not capture.
    static let formatVersion = "hipkit-crop-3"

    private let made: ResultSlots<Result<Data, any Error>>
    private let group = DispatchGroup()

    /// Starts a crop of every highlight that has a screenshot and no crop of its own.
    init(_ listing: MarketplaceListing, cacheDirectory: URL?) {
        let sources = listing.highlights.map { $0.crop == nil ? $0.screenshot?.data : nil }
        let made = ResultSlots<Result<Data, any Error>>(count: sources.count)
        self.made = made
        // Each crop is independent of the others, and gets a thread of its own at once. (Work
        // given to Dispatch's pool at the start of a process waited for the pool to grow: the
        // three crops of `full` ran one after another, and its cold build took 20% longer.)
        for (i, source) in sources.enumerated() {
            guard let source else { continue }
            group.enter()
            Thread { [group] in
                made[i] = Result { try Self.crop(source, cacheDirectory: cacheDirectory) }
                group.leave()
            }.start()
        }
    }

    /// The crop of highlight `i` (nil when it needs none), once all are made.
    func result(_ i: Int) -> Result<Data, any Error>? {
        group.wait()
        return made[i]
    }

    private static let size = ListingSchema.cropSize

    private static func crop(_ source: Data, cacheDirectory: URL?) throws -> Data {
        let name =
            BuildCache.key([Data(formatVersion.utf8), Data("\(size.width)x\(size.height)".utf8), source]) + ".png"
        // A kept crop is used only while it still reads as a PNG of the right size.
        if let cacheDirectory, let kept = try? Data(contentsOf: cacheDirectory.appendingPathComponent(name)),
            let info = ImageInfo.read(kept), info.format == .png, info.width == size.width,
            info.height == size.height
        {
            return kept
        }
        let data = try ImageCropper.crop(source, toWidth: size.width, height: size.height)
        if let cacheDirectory, (try? ProjectLayout.createPrivateDirectory(cacheDirectory)) != nil {
            BuildCache.put(data, as: name, in: cacheDirectory)
        }
        return data
    }
}
