#ifndef HIPKIT_CLIBPNG_H
#define HIPKIT_CLIBPNG_H

#include <png.h>
#include <stddef.h>

/// The bytes of a PNG made by hipkit_png_write, allocated with malloc: the caller frees `bytes`
/// with free(), on success and on failure alike.
typedef struct {
    unsigned char *bytes;
    size_t count;
    size_t capacity;
} hipkit_png_output;

/// Writes `height` rows of `width` 8-bit RGB (`channels` 3) or RGBA (`channels` 4) samples, no
/// padding, as a PNG tagged sRGB, every row filtered with Paeth and deflated with zlib's Z_RLE
/// strategy (runs of the same byte only). `output` holds no bytes yet: `bytes` is NULL or a malloc'd block of `capacity` bytes,
/// and `capacity` (0 for none) is where the output starts.
///
/// Returns 1, or 0 with what went wrong in `message` (64 bytes, NUL-terminated). The same samples
/// always give the same bytes for a given libpng and zlib: no time or text chunk is written.
///
/// This is libpng's full writing API, which reports errors by longjmp and so cannot be called
/// from Swift. It exists for the filter: libpng's simplified writer tries all five filters on
/// every row and keeps the best, which costs more than the deflate itself, while Paeth alone
/// gives files within 0.1% of that size on photographs, 2% on the crops of the `full` scaffold's
/// highlights and 4% on full-size screenshots.
///
/// Z_RLE because after Paeth most of an image is runs of zero: against the default strategy it
/// deflated a crop of the `full` scaffold in 30 M instructions instead of 49 M (3% smaller),
/// photographs in a third of the instructions (0.3–4% larger), and screenshots in 60% of them
/// (8–17% larger). The Marketplace states no size limit; a clean build makes every crop.
int hipkit_png_write(const unsigned char *samples, int channels, png_uint_32 width, png_uint_32 height,
                     hipkit_png_output *output, char message[64]);

/// Reads `data`, a PNG of `width`×`height` pixels, into `pixels` (width × height × 3 bytes) when
/// it holds exactly that: 8-bit RGB samples, no transparency, and no gamma libpng's simplified
/// reader would convert to sRGB's. Those are the pixels the simplified reader gives for such a
/// file, with less work: the zlib stream's Adler-32 is not computed (each chunk's CRC-32 still
/// is).
///
/// Returns 1; -1, reading nothing, for a PNG of another kind or size (read it with the simplified
/// API); or 0 with what went wrong in `message` (64 bytes, NUL-terminated) for a damaged one.
int hipkit_png_read_rgb(const unsigned char *data, size_t size, png_uint_32 width, png_uint_32 height,
                        unsigned char *pixels, char message[64]);

/// Whether `data`, a PNG stream (signature included), is whole: every chunk up to IEND within the
/// data and with its CRC-32 right. The image data is not inflated. Returns 1, or 0 with what is
/// wrong in `message` (64 bytes, NUL-terminated): "it ends inside its IDAT chunk", "the CRC of
/// its IDAT chunk does not match", "it ends before its IEND chunk".
///
/// For listing images hipkit copies into the bundle as they are: a file cut short or damaged on
/// the way shows as a broken image on the Marketplace, and only a crop would have decoded it.
int hipkit_png_check(const unsigned char *data, size_t size, char message[64]);

#endif
