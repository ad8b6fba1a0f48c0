// SHA-256 (FIPS 180-4) of a byte string, as 64 lowercase hex digits.  Used to
// record which scene text produced a run (run.json), so that results can be
// matched to the exact file even after it was edited.
#pragma once

#include <string>

namespace pl::scene {

std::string sha256_hex(const std::string& data);

}  // namespace pl::scene
