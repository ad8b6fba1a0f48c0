// Colours for previews: a categorical palette for materials and bodies, and a
// sequential colormap for scalar fields (speed, plastic state).
#pragma once

#include <string>
#include <vector>

#include "engine/render/image.hpp"

namespace pl::render {

/// Colour of category `index` (material or body id): matplotlib's "tab10"
/// palette (Tableau 10), repeated after 10 entries.
Rgb category_color(int index);

/// The sequential colormaps previews offer, by scene name.
const std::vector<std::string>& colormap_names();

/// Colour of `t` in [0, 1] (clamped) under the named colormap (one of
/// colormap_names(); an unknown name is a programmer error and gives grey).
Rgb colormap(const std::string& name, double t);

}  // namespace pl::render
