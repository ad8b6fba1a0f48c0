#include "engine/render/png_writer.hpp"

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace pl::render {

namespace {

void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(char((v >> shift) & 0xffu));
}

void put_chunk(std::string& out, const char type[4], const std::string& data) {
  put_be32(out, std::uint32_t(data.size()));
  const std::size_t crc_start = out.size();
  out.append(type, 4);
  out += data;
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(out.data() + crc_start),
                          uInt(out.size() - crc_start));
  put_be32(out, std::uint32_t(crc));
}

}  // namespace

std::string encode_png(const RgbImage& image) {
  const std::size_t w = std::size_t(image.width), h = std::size_t(image.height), row = w * 3;
  if (w == 0 || h == 0 || image.pixels.size() != row * h)
    throw std::runtime_error("encode_png: the image has no pixels or an inconsistent size");

  // Filtered scanlines: filter byte 1 (Sub), then Raw(x) - Raw(x - 3) mod 256.
  std::vector<std::uint8_t> filtered((row + 1) * h);
  for (std::size_t y = 0; y < h; ++y) {
    const std::uint8_t* src = image.pixels.data() + y * row;
    std::uint8_t* dst = filtered.data() + y * (row + 1);
    dst[0] = 1;
    for (std::size_t i = 0; i < row; ++i) dst[1 + i] = std::uint8_t(src[i] - (i >= 3 ? src[i - 3] : 0));
  }
  uLongf packed_size = compressBound(uLong(filtered.size()));
  std::string packed(packed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size, filtered.data(), uLong(filtered.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK)
    throw std::runtime_error("encode_png: zlib compression failed");
  packed.resize(packed_size);

  std::string ihdr;
  put_be32(ihdr, std::uint32_t(w));
  put_be32(ihdr, std::uint32_t(h));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // bit depth 8, truecolour, deflate, adaptive filters, no interlace

  std::string out("\x89PNG\r\n\x1a\n", 8);
  put_chunk(out, "IHDR", ihdr);
  put_chunk(out, "IDAT", packed);
  put_chunk(out, "IEND", "");
  return out;
}

}  // namespace pl::render
