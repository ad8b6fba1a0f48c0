// Turning a directory of preview PNGs into an MP4 with ffmpeg, when it is
// installed.  Pliant does not link a video encoder: ffmpeg is optional, and
// when it is missing the caller prints the command instead.
//
// The command runs inside the output directory with a glob over the frame
// files, so gaps in the numbering (previews every n-th frame) do not matter
// and the directory's name needs no escaping for ffmpeg:
//   cd 'out/x' && ffmpeg -y -framerate 60 -pattern_type glob -i 'preview_*.png'
//     -vf 'pad=ceil(iw/2)*2:ceil(ih/2)*2' -pix_fmt yuv420p preview.mp4   (one line)
// yuv420p is what browsers and most players decode; it needs even dimensions,
// hence the pad filter.
#pragma once

#include <string>
#include <vector>

namespace pl::render {

struct VideoRequest {
  std::string dir;                        // holds the frames; the video is written there too
  std::string frame_glob = "preview_*.png";
  std::string output = "preview.mp4";     // file name inside dir
  int fps = 30;
};

struct VideoResult {
  bool made = false;         // the video exists under its final name
  bool ffmpeg_found = false;
  std::string path;          // dir/output
  std::string command;       // the shell command that makes the video (printed when ffmpeg is missing)
  std::string error;         // why ffmpeg failed, when it ran and failed
};

/// Full path of `program` on $PATH, or "" when it is not there (or not executable).
std::string find_on_path(const std::string& program);

/// 'text' quoted for a POSIX shell.
std::string shell_quote(const std::string& text);

/// The shell command for `request` (see above).
std::string ffmpeg_shell_command(const VideoRequest& request);

/// Runs ffmpeg if it is on $PATH, writing to a temporary name in dir and
/// renaming it to `output` when ffmpeg succeeds; never throws for a missing or
/// failing ffmpeg (the result says what happened).
VideoResult make_video(const VideoRequest& request);

}  // namespace pl::render
