#include "CLibPNG.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct {
    hipkit_png_output *output;
    char *message;
    /// The first warning: libpng warns with the specific cause ("Image width is zero in IHDR")
    /// before it fails with a general one ("Invalid IHDR data").
    char warning[64];
} context;

static void fail(png_structp png, png_const_charp text) {
    context *c = png_get_error_ptr(png);
    const char *error = text ? text : "unknown libpng error";
    if (c->warning[0])
        snprintf(c->message, 64, "%.31s (%.29s)", error, c->warning);  // 63 characters at most
    else
        snprintf(c->message, 64, "%s", error);
    png_longjmp(png, 1);
}

static void warn(png_structp png, png_const_charp text) {
    context *c = png_get_error_ptr(png);
    if (!c->warning[0] && text) snprintf(c->warning, sizeof c->warning, "%s", text);
}

static void append(png_structp png, png_bytep data, size_t count) {
    context *c = png_get_io_ptr(png);
    hipkit_png_output *out = c->output;
    if (count > out->capacity - out->count) {
        size_t capacity = out->capacity ? out->capacity : 8192;
        while (count > capacity - out->count) {
            if (capacity > ((size_t)-1) / 2) png_error(png, "the PNG is too large to hold in memory");
            capacity *= 2;
        }
        unsigned char *grown = realloc(out->bytes, capacity);
        if (!grown) png_error(png, "out of memory");
        out->bytes = grown;
        out->capacity = capacity;
    }
    memcpy(out->bytes + out->count, data, count);
    out->count += count;
}

static void flush(png_structp png) { (void)png; }

int hipkit_png_write(const unsigned char *samples, int channels, png_uint_32 width, png_uint_32 height,
                     hipkit_png_output *output, char message[64]) {
    context c = {output, message, {0}};
    message[0] = 0;
    output->count = 0;
    if (channels != 3 && channels != 4) {
        strcpy(message, "only RGB and RGBA samples can be written");
        return 0;
    }
    if (output->capacity && !output->bytes) {
        output->bytes = malloc(output->capacity);
        if (!output->bytes) output->capacity = 0;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c, fail, warn);
    if (!png) {
        strcpy(message, "cannot start libpng's writer");
        return 0;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        strcpy(message, "cannot start libpng's writer");
        return 0;
    }
    // libpng's errors come back here. Nothing this function reads afterwards is changed after
    // the setjmp, so nothing needs to be volatile.
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return 0;
    }
    png_set_write_fn(png, &c, append, flush);
    png_set_IHDR(png, info, width, height, 8, channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_set_sRGB(png, info, PNG_sRGB_INTENT_PERCEPTUAL);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_PAETH);
    png_set_compression_strategy(png, Z_RLE);
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (png_uint_32 y = 0; y < height; y++) png_write_row(png, samples + (size_t)y * stride);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 1;
}

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
} input;

static void take(png_structp png, png_bytep out, size_t count) {
    input *in = png_get_io_ptr(png);
    if (count > in->size - in->offset) png_error(png, "the data ends early");
    memcpy(out, in->data + in->offset, count);
    in->offset += count;
}

/// libpng's simplified reader's test (png_gamma_not_sRGB in pngread.c): a file gamma this far
/// from sRGB's is converted to sRGB, so its pixels are not the file's samples.
static int gamma_not_sRGB(png_fixed_point gamma) {
    if (gamma == 0) return 0;
    if (gamma >= PNG_FP_1) return 1;
    png_fixed_point times22 = (gamma * 11 + 2) / 5;
    return times22 < PNG_FP_1 - 5000 || times22 > PNG_FP_1 + 5000;
}

int hipkit_png_read_rgb(const unsigned char *data, size_t size, png_uint_32 width, png_uint_32 height,
                        unsigned char *pixels, char message[64]) {
    context c = {NULL, message, {0}};
    input in = {data, size, 0};
    message[0] = 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, fail, warn);
    if (!png) {
        strcpy(message, "cannot start libpng's reader");
        return 0;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        strcpy(message, "cannot start libpng's reader");
        return 0;
    }
    // As in hipkit_png_write, nothing read after a longjmp changes after the setjmp.
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return 0;
    }
    png_set_read_fn(png, &in, take);
    // Every chunk's CRC-32, the image data's included, is still checked; the zlib stream's own
    // Adler-32 of the same bytes is not (it was a fifth of decoding a screenshot).
    png_set_option(png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
    png_read_info(png, info);
    png_fixed_point gamma = 0;
    int plain = png_get_image_width(png, info) == width && png_get_image_height(png, info) == height &&
                png_get_bit_depth(png, info) == 8 && png_get_color_type(png, info) == PNG_COLOR_TYPE_RGB &&
                !png_get_valid(png, info, PNG_INFO_tRNS) &&
                (png_get_valid(png, info, PNG_INFO_sRGB) || !png_get_gAMA_fixed(png, info, &gamma) ||
                 !gamma_not_sRGB(gamma));
    if (!plain) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t stride = (size_t)width * 3;
    for (int pass = 0; pass < passes; pass++)
        for (png_uint_32 y = 0; y < height; y++) png_read_row(png, pixels + (size_t)y * stride, NULL);
    // Nothing after the last row is read, as libpng's simplified reader reads nothing there: a
    // file whose IEND is missing or damaged gives its pixels on both roads alike.
    png_destroy_read_struct(&png, &info, NULL);
    return 1;
}

int hipkit_png_check(const unsigned char *data, size_t size, char message[64]) {
    message[0] = 0;
    size_t i = 8;
    while (size - i >= 12) {
        png_uint_32 length = png_get_uint_32(data + i);
        char type[5] = {0};
        memcpy(type, data + i + 4, 4);
        for (int k = 0; k < 4; k++)
            if (!((type[k] >= 'A' && type[k] <= 'Z') || (type[k] >= 'a' && type[k] <= 'z'))) type[k] = '?';
        if (length > PNG_UINT_31_MAX || length > size - i - 12) {
            snprintf(message, 64, "it ends inside its %s chunk", type);
            return 0;
        }
        uLong crc = crc32(0L, data + i + 4, (uInt)length + 4);
        if (crc != png_get_uint_32(data + i + 8 + length)) {
            snprintf(message, 64, "the CRC of its %s chunk does not match", type);
            return 0;
        }
        if (memcmp(data + i + 4, "IEND", 4) == 0) return 1;
        i += 12 + (size_t)length;
    }
    snprintf(message, 64, "it ends before its IEND chunk");
    return 0;
}
