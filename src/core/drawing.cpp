#include "hwnas/core/drawing.h"

namespace hwnas {
namespace {

// A DOT double-quoted string.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// Text inside an HTML-like DOT label.
std::string html(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

}  // namespace

nlohmann::json Drawing::to_json() const {
  nlohmann::json gs = nlohmann::json::array();
  for (const auto& g : graphs) {
    nlohmann::json nodes = nlohmann::json::array(), edges = nlohmann::json::array();
    for (const auto& n : g.nodes) nodes.push_back({{"id", n.id}, {"label", n.label}});
    for (const auto& e : g.edges) edges.push_back({{"from", e.from}, {"to", e.to}, {"label", e.label}});
    gs.push_back({{"name", g.name}, {"nodes", nodes}, {"edges", edges}});
  }
  nlohmann::json rs = nlohmann::json::array();
  for (const auto& [choice, option] : rows) rs.push_back({{"choice", choice}, {"option", option}});
  return {{"kind", kind}, {"title", title}, {"graphs", gs}, {"rows", rs}};
}

std::string Drawing::to_dot() const {
  std::string s = "digraph arch {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
                  "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  if (!title.empty()) s += "  label=" + quoted(title) + ";\n  labelloc=t;\n";
  for (size_t i = 0; i < graphs.size(); ++i) {
    const auto& g = graphs[i];
    const std::string prefix = "g" + std::to_string(i) + "_";
    s += "  subgraph cluster_" + std::to_string(i) + " {\n    label=" + quoted(g.name) + ";\n";
    for (const auto& n : g.nodes) s += "    " + quoted(prefix + n.id) + " [label=" + quoted(n.label) + "];\n";
    for (const auto& e : g.edges)
      s += "    " + quoted(prefix + e.from) + " -> " + quoted(prefix + e.to) +
           (e.label.empty() ? "" : " [label=" + quoted(e.label) + "]") + ";\n";
    s += "  }\n";
  }
  if (!rows.empty()) {
    s += "  choices [shape=plaintext, label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\">";
    for (const auto& [choice, option] : rows) s += "<tr><td>" + html(choice) + "</td><td>" + html(option) + "</td></tr>";
    s += "</table>>];\n";
  }
  return s + "}\n";
}

}  // namespace hwnas
