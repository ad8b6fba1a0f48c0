// Compile check: every model in AllModels instantiates in CUDA device code
// (tests/materials/device_compile_check.cu, compiled with nvcc -arch=sm_90
// -Werror all-warnings, not run: no GPU needed).  -Werror matters: nvcc only
// WARNS when a PL_HD body calls a host-only function (std::string, ...).  Skips when nvcc is not
// installed, when the source directory is unknown (a build outside CMake), or when
// PLIANT_SKIP_NVCC_TESTS is set (it costs 10-20 s on a 2-core machine).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

#ifdef PLIANT_SOURCE_DIR
std::string find_nvcc() {
  if (const char* env = std::getenv("CUDACXX"); env && std::filesystem::exists(env)) return env;
  if (std::filesystem::exists("/usr/local/cuda/bin/nvcc")) return "/usr/local/cuda/bin/nvcc";
  if (std::system("command -v nvcc > /dev/null 2>&1") == 0) return "nvcc";
  return "";
}
#endif

TEST(MaterialsDevice, AllModelsCompileUnderNvcc) {
#ifndef PLIANT_SOURCE_DIR
  GTEST_SKIP() << "PLIANT_SOURCE_DIR is not defined (build outside CMake)";
#else
  if (std::getenv("PLIANT_SKIP_NVCC_TESTS")) GTEST_SKIP() << "PLIANT_SKIP_NVCC_TESTS is set";
  const std::string nvcc = find_nvcc();
  if (nvcc.empty()) GTEST_SKIP() << "nvcc not found: device compile check skipped";
  const std::string source_dir = PLIANT_SOURCE_DIR;
  const auto tmp = std::filesystem::temp_directory_path();
  const std::string tag = "pliant_materials_device_" + std::to_string(::getpid());
  const std::string object = (tmp / (tag + ".o")).string();
  const std::string log = (tmp / (tag + ".log")).string();
  const std::string command = "\"" + nvcc + "\" -std=c++17 -arch=sm_90 -Werror all-warnings -I\"" +
                              source_dir + "\" -c \"" + source_dir +
                              "/tests/materials/device_compile_check.cu\" -o \"" + object +
                              "\" > \"" + log + "\" 2>&1";
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
