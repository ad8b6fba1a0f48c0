// A minimal ZIP archive writer (deflate, no ZIP64), enough for NumPy's .npz.
//
// Format: PKWARE, "APPNOTE.TXT - .ZIP File Format Specification", version
// 6.3.x: per member a local file header (sec. 4.3.7) followed by the raw
// deflate stream (RFC 1951; method 8, sec. 4.4.5), then the central directory
// (sec. 4.3.12) and the end-of-central-directory record (sec. 4.3.16).  All
// integers are little endian.  CRC-32 (sec. 4.4.7) and deflate come from zlib.
//
// Without ZIP64 a member and the whole archive must stay below 4 GiB and hold
// at most 65535 members; add() and finish() throw SimulationError beyond that
// (a trajectory that large belongs in per-frame PLY files).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pl::scene {

class ZipWriter {
 public:
  /// Compresses `data` and appends it as member `name`.
  void add(const std::string& name, const std::string& data);
  /// The archive's bytes (the members added so far, then the central
  /// directory).  Consumes the writer: call it once, last.
  std::string finish();

 private:
  struct Entry {
    std::string name;
    std::uint32_t crc = 0, compressed = 0, uncompressed = 0, offset = 0;
  };
  std::string body_;  // local headers and data, in order
  std::vector<Entry> entries_;
};

}  // namespace pl::scene
