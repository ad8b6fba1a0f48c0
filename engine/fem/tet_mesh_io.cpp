// Tet mesh readers: TetGen .node/.ele and Gmsh ASCII .msh (v2.2 and v4.1).
//
// Formats (from the tools' own manuals):
//   TetGen .node: "<#points> <dim=3> <#attributes> <#boundary markers 0|1>",
//     then "<index> <x> <y> <z> [attributes] [marker]" per point; .ele:
//     "<#tets> <nodes per tet 4|10> <#attributes>", then "<index> <n1..n4> ...".
//     '#' starts a comment; indices may start at 0 or 1 (the first point's
//     index says which, as TetGen does).
//   Gmsh 2.2 ASCII: $MeshFormat "2.2 0 8", $Nodes "N" then "tag x y z",
//     $Elements "M" then "tag type #tags tags... nodes..." (type 4 = 4-node tet).
//   Gmsh 4.1 ASCII: $Nodes "#blocks N min max", per block "dim entity
//     parametric n", n tags then n coordinate lines; $Elements "#blocks M min
//     max", per block "dim entity type n" then n lines "tag nodes...".
// Other sections ($Entities, $PhysicalNames, ...) are skipped.  Node tags can
// be sparse; they are mapped to 0-based indices in file order.
//
// Every error names the file and the line and says what was expected: a
// mesher's output that we misread must never become a silently wrong body.
#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "engine/core/error.hpp"
#include "engine/fem/tet_mesh.hpp"

namespace pl::fem {
namespace {

/// Whitespace-separated tokens of a text file with their line numbers.
class Tokens {
 public:
  Tokens(const std::string& path, char comment) : path_(path) {
    std::ifstream in(path);
    if (!in) throw InputError(path + ": cannot open the mesh file (does it exist and is it readable?)");
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (comment) {
        const auto c = line.find(comment);
        if (c != std::string::npos) line.erase(c);
      }
      std::istringstream ls(line);
      std::string t;
      while (ls >> t) tokens_.push_back({t, number});
    }
    last_line_ = number;
  }

  bool done() const { return pos_ >= tokens_.size(); }
  int line() const { return done() ? last_line_ : tokens_[pos_].line; }
  const std::string& path() const { return path_; }

  [[noreturn]] void fail(const std::string& expected) const {
    std::ostringstream os;
    os << path_ << ":" << line() << ": expected " << expected;
    if (done())
      os << ", got the end of the file";
    else
      os << ", got '" << tokens_[pos_].text << "'";
    throw InputError(os.str());
  }
  std::string word(const std::string& what) {
    if (done()) fail(what);
    return tokens_[pos_++].text;
  }
  long integer(const std::string& what) {
    if (done()) fail(what);
    const std::string& t = tokens_[pos_].text;
    std::size_t used = 0;
    long v = 0;
    try {
      v = std::stol(t, &used);
    } catch (...) {
      used = 0;
    }
    if (used != t.size() || used == 0) fail(what + " (an integer)");
    ++pos_;
    return v;
  }
  long count(const std::string& what) {
    const long v = integer(what);
    if (v < 0) {
      --pos_;
      fail(what + " (a count >= 0)");
    }
    return v;
  }
  double real(const std::string& what) {
    if (done()) fail(what);
    const std::string& t = tokens_[pos_].text;
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(t, &used);
    } catch (...) {
      used = 0;
    }
    if (used != t.size() || used == 0 || !std::isfinite(v)) fail(what + " (a finite number)");
    ++pos_;
    return v;
  }
  /// Skips the rest of the current line.
  void skip_line() {
    const int l = line();
    while (!done() && tokens_[pos_].line == l) ++pos_;
  }
  bool at_line_start() const { return done() || pos_ == 0 || tokens_[pos_ - 1].line != tokens_[pos_].line; }
  void expect_line_end(const std::string& what) {
    if (!at_line_start()) fail("the end of the line after " + what);
  }

 private:
  struct Token {
    std::string text;
    int line;
  };
  std::string path_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int last_line_ = 0;
};

std::string with_extension(const std::string& path, const std::string& ext) {
  const auto dot = path.find_last_of('.');
  const auto slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return path + ext;
  return path.substr(0, dot) + ext;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TetMesh read_tetgen(const std::string& node_path, const std::string& ele_path) {
  TetMesh mesh;
  mesh.source = node_path;
  std::unordered_map<long, int> index_of;
  long base = 0;
  {
    Tokens in(node_path, '#');
    const long n = in.count("the number of points");
    const long dim = in.integer("the dimension");
    if (dim != 3) {
      std::ostringstream os;
      os << node_path << ":" << in.line() << ": dimension " << dim << ", expected 3 (a 3D tetrahedral mesh)";
      throw InputError(os.str());
    }
    const long attributes = in.count("the number of attributes");
    const long markers = in.count("the number of boundary markers (0 or 1)");
    if (markers > 1) in.fail("0 or 1 boundary markers");
    in.expect_line_end("the .node header");
    for (long i = 0; i < n; ++i) {
      const long index = in.integer("a point index");
      if (i == 0) base = index;
      if (index_of.count(index)) {
        std::ostringstream os;
        os << node_path << ":" << in.line() << ": point index " << index << " appears twice";
        throw InputError(os.str());
      }
      index_of[index] = int(i);
      std::array<double, 3> p;
      for (int a = 0; a < 3; ++a) p[std::size_t(a)] = in.real("a coordinate");
      for (long k = 0; k < attributes + markers; ++k) in.real("a point attribute or boundary marker");
      in.expect_line_end("point " + std::to_string(index));
      mesh.vertices.push_back(p);
    }
    if (!in.done()) in.fail("the end of the file after " + std::to_string(n) + " points");
  }
  Tokens in(ele_path, '#');
  const long m = in.count("the number of tetrahedra");
  const long per = in.integer("the number of nodes per tetrahedron");
  if (per != 4) {
    std::ostringstream os;
    os << ele_path << ":" << in.line() << ": " << per
       << " nodes per tetrahedron; only linear (4-node) tetrahedra are supported";
    throw InputError(os.str());
  }
  const long attributes = in.count("the number of region attributes");
  in.expect_line_end("the .ele header");
  (void)base;
  for (long t = 0; t < m; ++t) {
    in.integer("a tetrahedron index");
    std::array<int, 4> tet;
    for (int a = 0; a < 4; ++a) {
      const int line = in.line();
      const long id = in.integer("a point index");
      const auto it = index_of.find(id);
      if (it == index_of.end()) {
        std::ostringstream os;
        os << ele_path << ":" << line << ": point index " << id << " is not in " << node_path;
        throw InputError(os.str());
      }
      tet[std::size_t(a)] = it->second;
    }
    for (long k = 0; k < attributes; ++k) in.real("a region attribute");
    in.expect_line_end("tetrahedron " + std::to_string(t));
    mesh.tets.push_back(tet);
  }
  if (!in.done()) in.fail("the end of the file after " + std::to_string(m) + " tetrahedra");
  check_tet_mesh(mesh);
  return mesh;
}

namespace {

void read_gmsh_v2_nodes(Tokens& in, TetMesh& mesh, std::unordered_map<long, int>& index_of) {
  const long n = in.count("the number of nodes");
  for (long i = 0; i < n; ++i) {
    const long tag = in.integer("a node tag");
    std::array<double, 3> p;
    for (int a = 0; a < 3; ++a) p[std::size_t(a)] = in.real("a node coordinate");
    in.expect_line_end("node " + std::to_string(tag));
    index_of[tag] = int(mesh.vertices.size());
    mesh.vertices.push_back(p);
  }
}

int node_index(Tokens& in, const std::unordered_map<long, int>& index_of) {
  const int line = in.line();
  const long tag = in.integer("a node tag");
  const auto it = index_of.find(tag);
  if (it == index_of.end()) {
    std::ostringstream os;
    os << in.path() << ":" << line << ": node tag " << tag << " is not in the $Nodes section";
    throw InputError(os.str());
  }
  return it->second;
}

void read_gmsh_v2_elements(Tokens& in, TetMesh& mesh, const std::unordered_map<long, int>& index_of) {
  const long m = in.count("the number of elements");
  for (long e = 0; e < m; ++e) {
    in.integer("an element tag");
    const long type = in.integer("an element type");
    const long tags = in.count("the number of element tags");
    for (long k = 0; k < tags; ++k) in.integer("an element tag value");
    if (type == 4) {
      std::array<int, 4> t;
      for (int a = 0; a < 4; ++a) t[std::size_t(a)] = node_index(in, index_of);
      in.expect_line_end("a 4-node tetrahedron");
      mesh.tets.push_back(t);
    } else {
      in.skip_line();  // points, lines, triangles...: not part of the volume mesh
    }
  }
}

void read_gmsh_v4_nodes(Tokens& in, TetMesh& mesh, std::unordered_map<long, int>& index_of) {
  const long blocks = in.count("the number of node blocks");
  in.count("the number of nodes");
  in.integer("the minimum node tag");
  in.integer("the maximum node tag");
  for (long b = 0; b < blocks; ++b) {
    in.integer("the block's entity dimension");
    in.integer("the block's entity tag");
    const long parametric = in.integer("the block's parametric flag (0 or 1)");
    const long n = in.count("the number of nodes in the block");
    std::vector<long> tags(std::size_t(n), 0);
    for (long i = 0; i < n; ++i) tags[std::size_t(i)] = in.integer("a node tag");
    for (long i = 0; i < n; ++i) {
      std::array<double, 3> p;
      for (int a = 0; a < 3; ++a) p[std::size_t(a)] = in.real("a node coordinate");
      if (parametric) in.skip_line();
      index_of[tags[std::size_t(i)]] = int(mesh.vertices.size());
      mesh.vertices.push_back(p);
    }
  }
}

void read_gmsh_v4_elements(Tokens& in, TetMesh& mesh, const std::unordered_map<long, int>& index_of) {
  const long blocks = in.count("the number of element blocks");
  in.count("the number of elements");
  in.integer("the minimum element tag");
  in.integer("the maximum element tag");
  for (long b = 0; b < blocks; ++b) {
    in.integer("the block's entity dimension");
    in.integer("the block's entity tag");
    const long type = in.integer("the block's element type");
    const long n = in.count("the number of elements in the block");
    in.expect_line_end("an element block header");
    for (long e = 0; e < n; ++e) {
      in.integer("an element tag");
      if (type == 4) {
        std::array<int, 4> t;
        for (int a = 0; a < 4; ++a) t[std::size_t(a)] = node_index(in, index_of);
        in.expect_line_end("a 4-node tetrahedron");
        mesh.tets.push_back(t);
      } else {
        in.skip_line();
      }
    }
  }
}

}  // namespace

TetMesh read_gmsh(const std::string& path) {
  Tokens in(path, 0);
  TetMesh mesh;
  mesh.source = path;
  if (in.word("$MeshFormat") != "$MeshFormat") {
    std::ostringstream os;
    os << path << ":1: expected '$MeshFormat' (a Gmsh .msh file)";
    throw InputError(os.str());
  }
  const int version_line = in.line();
  const std::string version = in.word("the format version (2.2 or 4.1)");
  const long file_type = in.integer("the file type (0 = ASCII)");
  in.integer("the data size");
  if (file_type != 0) {
    std::ostringstream os;
    os << path << ":" << version_line << ": binary .msh files are not supported; save as ASCII (file type 0)";
    throw InputError(os.str());
  }
  const bool v2 = version.rfind("2.", 0) == 0;
  const bool v41 = version == "4.1";
  if (!v2 && !v41) {
    std::ostringstream os;
    os << path << ":" << version_line << ": .msh format version " << version
       << " is not supported; expected 2.2 or 4.1 (Gmsh: Mesh.MshFileVersion)";
    throw InputError(os.str());
  }
  if (in.word("$EndMeshFormat") != "$EndMeshFormat") {
    std::ostringstream os;
    os << path << ": expected '$EndMeshFormat' after the format line";
    throw InputError(os.str());
  }
  std::unordered_map<long, int> index_of;
  bool nodes = false, elements = false;
  while (!in.done()) {
    const int line = in.line();
    const std::string section = in.word("a section");
    if (section.empty() || section[0] != '$') {
      std::ostringstream os;
      os << path << ":" << line << ": expected a section name starting with '$', got '" << section << "'";
      throw InputError(os.str());
    }
    const std::string end = "$End" + section.substr(1);
    if (section == "$Nodes") {
      if (nodes) in.fail("one $Nodes section");
      v2 ? read_gmsh_v2_nodes(in, mesh, index_of) : read_gmsh_v4_nodes(in, mesh, index_of);
      nodes = true;
    } else if (section == "$Elements") {
      if (!nodes) {
        std::ostringstream os;
        os << path << ":" << line << ": $Elements before $Nodes";
        throw InputError(os.str());
      }
      v2 ? read_gmsh_v2_elements(in, mesh, index_of) : read_gmsh_v4_elements(in, mesh, index_of);
      elements = true;
    } else {
      while (!in.done() && in.word(end) != end) {
      }
      continue;
    }
    if (in.word(end) != end) {
      std::ostringstream os;
      os << path << ":" << in.line() << ": expected '" << end << "' (more entries than the section's count?)";
      throw InputError(os.str());
    }
  }
  if (!nodes || !elements) throw InputError(path + ": expected a $Nodes and an $Elements section");
  check_tet_mesh(mesh);
  return mesh;
}

TetMesh read_tet_mesh(const std::string& path) {
  if (ends_with(path, ".msh")) return read_gmsh(path);
  if (ends_with(path, ".node")) return read_tetgen(path, with_extension(path, ".ele"));
  if (ends_with(path, ".ele")) return read_tetgen(with_extension(path, ".node"), path);
  throw InputError(path + ": unknown tet mesh format; expected a .msh (Gmsh ASCII 2.2/4.1) or .node/.ele (TetGen) file");
}

}  // namespace pl::fem
