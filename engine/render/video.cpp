#include "engine/render/video.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

namespace pl::render {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> ffmpeg_args(const VideoRequest& r, const std::string& output, bool quiet) {
  std::vector<std::string> args = {"ffmpeg", "-y"};
  if (quiet) args.insert(args.end(), {"-nostdin", "-loglevel", "error"});
  args.insert(args.end(), {"-framerate", std::to_string(r.fps), "-pattern_type", "glob", "-i", r.frame_glob, "-vf",
                           "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p"});
  if (quiet) args.insert(args.end(), {"-f", "mp4"});  // the temporary name has no .mp4 extension
  args.push_back(output);
  return args;
}

/// Runs argv[0] (searched on $PATH) in `dir`; returns its exit status (-1 when
/// it could not start or died from a signal) and its stderr in `err`.
int run_in_dir(const std::vector<std::string>& argv, const std::string& dir, std::string& err) {
  // Built before fork: the child of a multi-threaded process may only make
  // async-signal-safe calls until exec, and allocation is not one.
  std::vector<char*> cargs;
  for (const auto& a : argv) cargs.push_back(const_cast<char*>(a.c_str()));
  cargs.push_back(nullptr);
  int pipe_fd[2];
  if (::pipe(pipe_fd) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fd[0]);
    ::close(pipe_fd[1]);
    return -1;
  }
  if (pid == 0) {
    ::dup2(pipe_fd[1], STDERR_FILENO);
    ::close(pipe_fd[0]);
    ::close(pipe_fd[1]);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    ::execvp(cargs[0], cargs.data());
    ::_exit(127);
  }
  ::close(pipe_fd[1]);
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fd[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    err.append(buf, std::size_t(n));
  }
  ::close(pipe_fd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path || program.empty()) return "";
  const std::string all = path;
  for (std::size_t start = 0; start <= all.size();) {
    std::size_t end = all.find(':', start);
    if (end == std::string::npos) end = all.size();
    const std::string dir = end > start ? all.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + program;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string ffmpeg_shell_command(const VideoRequest& r) {
  std::string cmd = "cd " + shell_quote(r.dir) + " &&";
  for (const auto& a : ffmpeg_args(r, r.output, false)) {
    const bool plain = a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
                       std::string::npos;
    cmd += " " + (plain ? a : shell_quote(a));
  }
  return cmd;
}

VideoResult make_video(const VideoRequest& r) {
  VideoResult result;
  result.path = (fs::path(r.dir) / r.output).string();
  result.command = ffmpeg_shell_command(r);
  result.ffmpeg_found = !find_on_path("ffmpeg").empty();
  if (!result.ffmpeg_found) return result;
  const std::string tmp = r.output + ".tmp." + std::to_string(::getpid());
  std::string err;
  const int code = run_in_dir(ffmpeg_args(r, tmp, true), r.dir, err);
  std::error_code ec;
  if (code == 0) {
    fs::rename(fs::path(r.dir) / tmp, result.path, ec);
    if (!ec) {
      result.made = true;
      return result;
    }
    err = "cannot move the finished video into place: " + ec.message();
  }
  fs::remove(fs::path(r.dir) / tmp, ec);
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
  result.error = "ffmpeg failed (exit status " + std::to_string(code) + ")" + (err.empty() ? "" : ": " + err);
  return result;
}

}  // namespace pl::render
