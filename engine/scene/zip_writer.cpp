#include "engine/scene/zip_writer.hpp"

#include <zlib.h>

#include <limits>

#include "engine/core/error.hpp"

namespace pl::scene {

namespace {

constexpr std::uint64_t kMax32 = std::numeric_limits<std::uint32_t>::max();
// MS-DOS date and time of every member: 1980-01-01 00:00, the format's epoch
// (date = (year - 1980) << 9 | month << 5 | day).  A fixed stamp keeps the
// archive's bytes a function of its contents; run.json records when it ran.
constexpr std::uint16_t kDosTime = 0;
constexpr std::uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;
constexpr std::uint16_t kVersion = 20;  // 2.0: deflate

void put16(std::string& out, std::uint16_t v) {
  out.push_back(char(v & 0xffu));
  out.push_back(char(v >> 8));
}
void put32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xffu));
}

std::string raw_deflate(const std::string& data) {
  z_stream s{};
  // Negative window bits: a raw deflate stream without the zlib header, as ZIP stores it.
  if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw SimulationError("npz: zlib could not start deflate (out of memory?)");
  std::string out(deflateBound(&s, uLong(data.size())), '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = uInt(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = uInt(out.size());
  const int rc = deflate(&s, Z_FINISH);
  const std::size_t produced = s.total_out;
  deflateEnd(&s);
  if (rc != Z_STREAM_END) throw SimulationError("npz: deflate failed");
  out.resize(produced);
  return out;
}

}  // namespace

void ZipWriter::add(const std::string& name, const std::string& data) {
  // deflateBound and avail_in are 32-bit quantities in zlib's API: the same limit as ZIP without ZIP64.
  if (data.size() >= kMax32 || entries_.size() >= 0xffff || name.size() >= 0xffff)
    throw SimulationError("npz: member '" + name + "' (" + std::to_string(data.size()) +
                          " bytes) exceeds the 4 GiB / 65535-member limits of ZIP without ZIP64; "
                          "write fewer frames (output.every_n_frames) or use PLY frames");
  Entry e;
  e.name = name;
  e.uncompressed = std::uint32_t(data.size());
  e.crc = std::uint32_t(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()), uInt(data.size())));
  const std::string packed = raw_deflate(data);
  if (body_.size() + packed.size() + 64 + name.size() >= kMax32)
    throw SimulationError("npz: the archive would exceed 4 GiB (ZIP without ZIP64); "
                          "write fewer frames (output.every_n_frames) or use PLY frames");
  e.compressed = std::uint32_t(packed.size());
  e.offset = std::uint32_t(body_.size());
  put32(body_, 0x04034b50);  // local file header signature
  put16(body_, kVersion);    // version needed to extract
  put16(body_, 0);           // general purpose flags
  put16(body_, 8);           // compression method: deflate
  put16(body_, kDosTime);
  put16(body_, kDosDate);
  put32(body_, e.crc);
  put32(body_, e.compressed);
  put32(body_, e.uncompressed);
  put16(body_, std::uint16_t(name.size()));
  put16(body_, 0);  // extra field length
  body_ += name;
  body_ += packed;
  entries_.push_back(std::move(e));
}

std::string ZipWriter::finish() {
  std::string out = std::move(body_);  // the archive can be large: no copy
  const std::size_t directory_offset = out.size();
  for (const Entry& e : entries_) {
    put32(out, 0x02014b50);  // central directory header signature
    put16(out, kVersion);    // version made by (MS-DOS attributes, spec 2.0)
    put16(out, kVersion);    // version needed to extract
    put16(out, 0);           // flags
    put16(out, 8);           // deflate
    put16(out, kDosTime);
    put16(out, kDosDate);
    put32(out, e.crc);
    put32(out, e.compressed);
    put32(out, e.uncompressed);
    put16(out, std::uint16_t(e.name.size()));
    put16(out, 0);  // extra field length
    put16(out, 0);  // comment length
    put16(out, 0);  // disk number start
    put16(out, 0);  // internal attributes
    put32(out, 0);  // external attributes
    put32(out, e.offset);
    out += e.name;
  }
  const std::size_t directory_size = out.size() - directory_offset;
  if (out.size() + 22 >= kMax32) throw SimulationError("npz: the archive would exceed 4 GiB (ZIP without ZIP64)");
  put32(out, 0x06054b50);  // end of central directory signature
  put16(out, 0);           // number of this disk
  put16(out, 0);           // disk with the central directory
  put16(out, std::uint16_t(entries_.size()));
  put16(out, std::uint16_t(entries_.size()));
  put32(out, std::uint32_t(directory_size));
  put32(out, std::uint32_t(directory_offset));
  put16(out, 0);  // comment length
  return out;
}

}  // namespace pl::scene
