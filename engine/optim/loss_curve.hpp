// The loss curve of an optimization as an image (loss_curve.png): the loss of
// each iteration (light) and the best loss so far (dark) against the
// iteration, on a log scale when every value is positive and they span more
// than a factor 20, with grey grid lines at powers of ten (log) or at tenths of
// the range (linear).  No text: the numbers are in log.jsonl.
#pragma once

#include <vector>

#include "engine/render/image.hpp"

namespace pl::optim {

render::RgbImage plot_loss_curve(const std::vector<double>& loss, const std::vector<double>& best, int width = 640,
                                 int height = 400);

}  // namespace pl::optim
