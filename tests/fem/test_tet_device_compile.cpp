// Compile check: the FEM kernel bodies instantiate in CUDA device code
// (tests/fem/test_tet_device_compile_check.cu, nvcc -arch=sm_90 -Werror
// all-warnings, not run: no GPU needed).  Skips like MaterialsDevice: no nvcc,
// no source directory, or PLIANT_SKIP_NVCC_TESTS set.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

TEST(FemDevice, TetKernelsCompileUnderNvcc) {
#ifndef PLIANT_SOURCE_DIR
  GTEST_SKIP() << "PLIANT_SOURCE_DIR is not defined (build outside CMake)";
#else
  if (std::getenv("PLIANT_SKIP_NVCC_TESTS")) GTEST_SKIP() << "PLIANT_SKIP_NVCC_TESTS is set";
  std::string nvcc;
  if (const char* env = std::getenv("CUDACXX"); env && std::filesystem::exists(env))
    nvcc = env;
  else if (std::filesystem::exists("/usr/local/cuda/bin/nvcc"))
    nvcc = "/usr/local/cuda/bin/nvcc";
  if (nvcc.empty()) GTEST_SKIP() << "nvcc not found: device compile check skipped";
  const std::string src = PLIANT_SOURCE_DIR;
  const auto tmp = std::filesystem::temp_directory_path();
  const std::string tag = "pliant_fem_device_" + std::to_string(::getpid());
  const std::string object = (tmp / (tag + ".o")).string(), log = (tmp / (tag + ".log")).string();
  const std::string command = "\"" + nvcc + "\" -std=c++17 -arch=sm_90 -Werror all-warnings --expt-relaxed-constexpr -I\"" +
                              src + "\" -c \"" + src + "/tests/fem/test_tet_device_compile_check.cu\" -o \"" +
                              object + "\" > \"" + log + "\" 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream in(log);
  std::stringstream output;
  output << in.rdbuf();
  std::filesystem::remove(object);
  std::filesystem::remove(log);
  EXPECT_EQ(rc, 0) << command << "\n" << output.str();
#endif
}

}  // namespace
