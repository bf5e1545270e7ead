// hwnas-probe: times every TorchScript model of an hwnas profiling kit with LibTorch's JIT
// and writes the results file `hwnas table import-kit` reads. Its only dependency is
// LibTorch, so it builds on the device itself (see CMakeLists.txt).
//
// Usage: hwnas-probe KIT_DIR RESULTS.jsonl [--threads N] [--executor profiling|legacy]
//                    [--no-freeze] [--resume]
//
// It reads KIT_DIR/models.tsv (the kit's first line gives its fingerprint and protocol).
// Each model: loaded, put in eval mode, frozen (torch::jit::freeze, unless --no-freeze),
// one fixed input of its shape (the values the ONNX Runtime runner uses), the kit's
// warm-up runs, then its repetitions, each timed alone with a steady clock, under
// inference mode. The JIT executor (profiling: LibTorch's default; legacy: the graph
// executor without profiling), the freezing and the threads are fixed for the whole run
// and recorded in the results header. The identity model OVERHEAD is timed first: its
// median is LibTorch's cost of one call.
//
// RESULTS.jsonl: a header line {"format": "hwnas-kit-results", "version": 1, "kit", "runtime":
// "libtorch-jit", "runtime_version", "device", "threads", "date", "protocol"}, then one line
// {"id", "median_ms", "mean_ms", "std_ms", "count"} per model, written as each is measured:
// an interrupted run continues with --resume (results of another kit, or measured with
// other settings, are refused).
#include <ATen/Parallel.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/utsname.h>
#endif

namespace {

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Model {
  std::string id, role, torchscript;
  std::vector<int64_t> input;
};

struct Kit {
  std::string fingerprint;
  int64_t warmup = 0, repetitions = 0;
  std::vector<Model> models;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

int64_t to_int(const std::string& s, const std::string& what, int64_t lo, int64_t hi) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size() || v < lo || v > hi)
    throw Failure(what + " is '" + s + "'; give a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return v;
}

Kit read_kit(const std::string& dir) {
  const std::string path = dir + "/models.tsv";
  std::ifstream in(path);
  if (!in) throw Failure(path + " cannot be read; give the folder `hwnas profile --kit` wrote");
  Kit kit;
  std::string line;
  std::getline(in, line);
  // "# hwnas-profiling-kit 1 <fingerprint> warmup <w> repetitions <r>"
  const auto head = split(line, ' ');
  if (head.size() != 8 || head[0] != "#" || head[1] != "hwnas-profiling-kit" || head[4] != "warmup" ||
      head[6] != "repetitions")
    throw Failure(path + " line 1 is not an hwnas profiling kit header; give the folder `hwnas profile --kit` wrote");
  if (head[2] != "1") throw Failure(path + " has kit format version " + head[2] + "; this hwnas-probe reads version 1");
  kit.fingerprint = head[3];
  kit.warmup = to_int(head[5], path + " warmup", 0, 100000);
  kit.repetitions = to_int(head[7], path + " repetitions", 1, 1000000);
  std::set<std::string> ids;
  for (int64_t n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const auto where = path + " line " + std::to_string(n);
    const auto cols = split(line, '\t');
    if (cols.size() != 5) throw Failure(where + " does not have 5 tab-separated columns; write the kit again");
    Model m{cols[0], cols[1], cols[2], {}};
    for (const auto& d : split(cols[4], 'x')) m.input.push_back(to_int(d, where + " input size", 1, int64_t{1} << 20));
    if (m.input.size() != 4) throw Failure(where + ": the input '" + cols[4] + "' is not NxCxHxW");
    if (!ids.insert(m.id).second) throw Failure(where + ": the id '" + m.id + "' is given twice; write the kit again");
    kit.models.push_back(std::move(m));
  }
  if (kit.models.empty() || kit.models.front().role != "overhead")
    throw Failure(path + " does not start with the overhead model; write the kit again");
  return kit;
}

std::string escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string device_description() {
  std::string cpu = "unknown CPU";
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);) {
    // x86: "model name : ..."; arm64 kernels: "Hardware : ..." or "CPU part : ..."
    if (line.rfind("model name", 0) == 0 || line.rfind("Hardware", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) cpu = line.substr(colon + 2);
      break;
    }
  }
#if defined(__unix__) || defined(__APPLE__)
  utsname u{};
  if (uname(&u) == 0) cpu += std::string(" (") + u.machine + ", " + u.sysname + " " + u.release + ")";
#endif
  return cpu;
}

std::string format_ms(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Settings {
  std::string kit_dir, results, executor = "profiling";
  int64_t threads = 1;
  bool freeze = true, resume = false;
};

Settings parse_args(int argc, char** argv) {
  Settings s;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&](const char* name) {
      if (i + 1 >= argc) throw Failure(std::string(name) + " needs a value");
      return std::string(argv[++i]);
    };
    if (a == "--threads") s.threads = to_int(value("--threads"), "--threads", 1, 1024);
    else if (a == "--executor") s.executor = value("--executor");
    else if (a == "--no-freeze") s.freeze = false;
    else if (a == "--resume") s.resume = true;
    else if (a == "--help" || a == "-h") throw Failure("");
    else if (!a.empty() && a[0] == '-') throw Failure("unknown option '" + a + "'");
    else positional.push_back(a);
  }
  if (s.executor != "profiling" && s.executor != "legacy")
    throw Failure("--executor is '" + s.executor + "'; give profiling or legacy");
  if (positional.size() != 2) throw Failure("give the kit folder and the results file");
  s.kit_dir = positional[0];
  s.results = positional[1];
  return s;
}

std::string header_line(const Kit& kit, const Settings& s) {
  char date[16] = "";
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
  return std::string("{\"format\":\"hwnas-kit-results\",\"version\":1,\"kit\":\"") + escape(kit.fingerprint) +
         "\",\"runtime\":\"libtorch-jit\",\"runtime_version\":\"" + TORCH_VERSION + "\",\"device\":\"" +
         escape(device_description()) + "\",\"threads\":" + std::to_string(s.threads) + ",\"date\":\"" + date +
         "\",\"protocol\":{\"warmup\":" + std::to_string(kit.warmup) + ",\"repetitions\":" +
         std::to_string(kit.repetitions) + ",\"statistic\":\"median\",\"unit\":\"ms\",\"executor\":\"" + s.executor +
         "\",\"frozen\":" + (s.freeze ? "true" : "false") + ",\"inference_mode\":true}}";
}

// The settings part of a header: what a resumed run must share with the first one.
std::string settings_of(const std::string& header) {
  const auto kit = header.find("\"kit\":"), date = header.find(",\"date\":"), protocol = header.find(",\"protocol\":");
  if (kit == std::string::npos || date == std::string::npos || protocol == std::string::npos) return {};
  const auto device = header.find(",\"device\":");
  const auto threads = header.find(",\"threads\":");
  if (device == std::string::npos || threads == std::string::npos) return {};
  return header.substr(kit, device - kit) + header.substr(threads, date - threads) + header.substr(protocol);
}

// Ids already measured in `path` (a results file this program wrote for the same kit and
// settings); rewrites it without a line cut by an interruption.
std::set<std::string> resume_from(const std::string& path, const std::string& header) {
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  if (settings_of(first).empty())
    throw Failure(path + " has no hwnas-probe results header on its first line; give another file");
  if (settings_of(first) != settings_of(header))
    throw Failure(path + " was measured on another kit or with other settings (threads, executor, freezing); "
                  "give another file, or the same settings");
  std::set<std::string> done;
  std::string kept = first + "\n";
  for (std::string line; std::getline(in, line);) {
    const std::string prefix = "{\"id\":\"";
    const auto close = line.find('"', prefix.size());
    if (line.rfind(prefix, 0) != 0 || line.empty() || line.back() != '}' || close == std::string::npos) continue;
    done.insert(line.substr(prefix.size(), close - prefix.size()));
    kept += line + "\n";
  }
  in.close();
  std::ofstream(path, std::ios::trunc) << kept;
  return done;
}

int run(const Settings& s) {
  const Kit kit = read_kit(s.kit_dir);
  at::set_num_threads(static_cast<int>(s.threads));
  // profiling: LibTorch's default executor; legacy: the graph executor it replaced.
  torch::jit::getExecutorMode() = s.executor == "profiling";
  torch::jit::getProfilingMode() = s.executor == "profiling";
  const auto header = header_line(kit, s);
  std::set<std::string> done;
  if (std::ifstream(s.results).good()) {
    if (!s.resume) throw Failure(s.results + " exists; pass --resume to continue it, or give another file (nothing was replaced)");
    done = resume_from(s.results, header);
  } else {
    std::ofstream out(s.results);
    if (!out) throw Failure(s.results + " cannot be written; give a file in a folder that exists");
    out << header << "\n";
  }
  std::ofstream out(s.results, std::ios::app);
  int64_t measured = 0;
  for (const auto& m : kit.models) {
    if (done.count(m.id)) continue;
    const auto file = s.kit_dir + "/" + m.torchscript;
    torch::jit::Module module;
    try {
      module = torch::jit::load(file);
    } catch (const c10::Error& e) {
      throw Failure(file + " cannot be loaded by LibTorch " + TORCH_VERSION + " (" + e.what_without_backtrace() +
                    "); write the kit with an hwnas whose LibTorch this one reads");
    }
    module.eval();
    if (s.freeze) module = torch::jit::freeze(module);
    c10::InferenceMode inference;
    int64_t size = 1;
    for (const auto d : m.input) size *= d;
    std::vector<float> values(static_cast<size_t>(size));
    for (int64_t i = 0; i < size; ++i) values[static_cast<size_t>(i)] = static_cast<float>((i * 7919) % 2001) / 1000.f - 1.f;
    const std::vector<torch::jit::IValue> inputs{torch::from_blob(values.data(), m.input, torch::kFloat32).clone()};
    for (int64_t i = 0; i < kit.warmup; ++i) module.forward(inputs);
    std::vector<double> ms;
    for (int64_t i = 0; i < kit.repetitions; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      module.forward(inputs);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    double mean = 0;
    for (const double v : ms) mean += v;
    mean /= static_cast<double>(ms.size());
    double var = 0;
    for (const double v : ms) var += (v - mean) * (v - mean);
    const double sd = ms.size() > 1 ? std::sqrt(var / static_cast<double>(ms.size() - 1)) : 0.0;
    out << "{\"id\":\"" << escape(m.id) << "\",\"median_ms\":" << format_ms(median(ms)) << ",\"mean_ms\":" << format_ms(mean)
        << ",\"std_ms\":" << format_ms(sd) << ",\"count\":" << ms.size() << "}\n";
    out.flush();
    ++measured;
  }
  std::cout << "{\"kit\":\"" << kit.fingerprint << "\",\"results\":\"" << escape(s.results) << "\",\"measured\":" << measured
            << ",\"already\":" << done.size() << ",\"models\":" << kit.models.size() << "}\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const Failure& e) {
    if (std::string(e.what()).empty()) {
      std::cout << "usage: hwnas-probe KIT_DIR RESULTS.jsonl [--threads N] [--executor profiling|legacy] [--no-freeze] [--resume]\n";
      return 0;
    }
    std::cerr << "hwnas-probe: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "hwnas-probe: LibTorch failed: " << e.what_without_backtrace() << "\n";
    return 2;
  }
}
