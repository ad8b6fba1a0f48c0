// A minimal PNG encoder: 8-bit RGB, no interlace, one IDAT chunk, over zlib.
//
// Layout (W3C, "Portable Network Graphics (PNG) Specification", 2nd ed.,
// 2003): the 8-byte signature (sec. 5.2); chunks of length (4 bytes, big
// endian), type, data and a CRC-32 over type + data (sec. 5.3, the CRC of
// ISO 3309 that zlib's crc32() computes); IHDR with width, height, bit depth 8,
// colour type 2 = truecolour, compression 0, filter method 0, interlace 0
// (sec. 11.2.2); IDAT holding the zlib stream of the scanlines, each preceded
// by its filter-type byte (sec. 9); an empty IEND (sec. 11.2.5).
//
// Rows use filter type 1 ("Sub": each byte minus the byte of the pixel to its
// left, sec. 9.2), which turns the flat background and the smooth shading of
// previews into runs of zeros that deflate well.
#pragma once

#include <string>

#include "engine/render/image.hpp"

namespace pl::render {

/// The PNG file's bytes.  Throws std::runtime_error if zlib fails (out of memory).
std::string encode_png(const RgbImage& image);

}  // namespace pl::render
