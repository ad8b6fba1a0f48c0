// .npy encoding and the ZIP container of .npz files (engine/scene/npz_writer,
// zip_writer), checked against the format specifications byte by byte.  The
// end-to-end check that NumPy itself reads Pliant's trajectory.npz is
// tests/scene/check_outputs.py (ctest: cli.outputs_read_by_numpy).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/scene/npz_writer.hpp"
#include "engine/scene/zip_writer.hpp"

namespace {

namespace sc = pl::scene;

std::uint32_t le32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | std::uint8_t(s[at + std::size_t(i)]);
  return v;
}
std::uint16_t le16(const std::string& s, std::size_t at) {
  return std::uint16_t(std::uint8_t(s[at]) | (std::uint8_t(s[at + 1]) << 8));
}

TEST(Npy, HeaderFollowsFormat10AndAlignsTheData) {
  const std::string npy = sc::encode_npy(sc::npy_float32("x", {2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t header_len = le16(npy, 8);
  EXPECT_EQ((10 + header_len) % 64, 0u) << "data must start on a 64-byte boundary";
  const std::string header = npy.substr(10, header_len);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u) << header;
  ASSERT_EQ(npy.size(), 10 + header_len + 6 * 4);
  float last;
  std::memcpy(&last, npy.data() + npy.size() - 4, 4);
  EXPECT_EQ(last, 6.0f);
  // A 1-D shape is a Python 1-tuple, "(3,)".
  EXPECT_NE(sc::encode_npy(sc::npy_int32("i", {3}, {1, 2, 3})).find("'shape': (3,)"), std::string::npos);
  // Strings: UTF-32, padded to the longest.
  const std::string s = sc::encode_npy(sc::npy_strings("names", {"ab", "c"}));
  EXPECT_NE(s.find("'descr': '<U2'"), std::string::npos);
  EXPECT_EQ(s.size() % 64, 16u);  // header 64-aligned, then 2 strings x 2 chars x 4 bytes
  // A size mismatch is a programmer error.
  EXPECT_THROW(sc::encode_npy({"bad", "<f4", {4}, std::string(12, '\0')}), std::logic_error);
}

TEST(Zip, MembersInflateToTheirDataWithMatchingCrc) {
  std::string big(100000, 'a');
  for (std::size_t i = 0; i < big.size(); i += 7) big[i] = char('a' + i % 13);
  const std::vector<std::pair<std::string, std::string>> members = {{"one.npy", "hello"}, {"two.npy", big},
                                                                    {"empty.npy", ""}};
  sc::ZipWriter zip;
  for (const auto& [name, data] : members) zip.add(name, data);
  const std::string archive = zip.finish();

  // End of central directory record: the last 22 bytes (no archive comment).
  ASSERT_GE(archive.size(), 22u);
  const std::size_t eocd = archive.size() - 22;
  ASSERT_EQ(le32(archive, eocd), 0x06054b50u);
  EXPECT_EQ(le16(archive, eocd + 10), members.size());
  const std::size_t dir_size = le32(archive, eocd + 12), dir_offset = le32(archive, eocd + 16);
  EXPECT_EQ(dir_offset + dir_size, eocd);

  std::size_t at = dir_offset;
  for (const auto& [name, data] : members) {
    ASSERT_EQ(le32(archive, at), 0x02014b50u) << name;
    EXPECT_EQ(le16(archive, at + 10), 8) << "deflate";
    const std::uint32_t crc = le32(archive, at + 16), csize = le32(archive, at + 20), usize = le32(archive, at + 24);
    const std::size_t name_len = le16(archive, at + 28), local = le32(archive, at + 42);
    EXPECT_EQ(archive.substr(at + 46, name_len), name);
    EXPECT_EQ(usize, data.size());
    EXPECT_EQ(crc, std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(data.data()), uInt(data.size()))));
    // The local header repeats name, sizes and CRC; the raw deflate data follows it.
    ASSERT_EQ(le32(archive, local), 0x04034b50u);
    EXPECT_EQ(le32(archive, local + 14), crc);
    EXPECT_EQ(le32(archive, local + 18), csize);
    const std::size_t data_at = local + 30 + le16(archive, local + 26) + le16(archive, local + 28);
    z_stream s{};
    ASSERT_EQ(inflateInit2(&s, -15), Z_OK);
    std::string out(data.size() + 1, '\0');
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(archive.data() + data_at));
    s.avail_in = csize;
    s.next_out = reinterpret_cast<Bytef*>(out.data());
    s.avail_out = uInt(out.size());
    EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END) << name;
    out.resize(s.total_out);
    inflateEnd(&s);
    EXPECT_EQ(out, data) << name;
    at += 46 + name_len;
  }
  EXPECT_LT(archive.size(), big.size() / 5) << "the repetitive member must be compressed";
}

}  // namespace
