// The bad-input catalogue: every case runs one hwnas command on a bad input with existing
// outputs in place, and must
//   - exit with status 2,
//   - print exactly one line, which names the offending path, field or value verbatim
//     (each case lists the fragments) and says what to do about it,
//   - change no file of the fixture folder (compared byte for byte before and after),
//   - show no LibTorch backtrace.
// The cases are grouped by the classes of the trust issue: crashes, data loss, internal
// errors for user input, stack traces, misleading messages, bad values accepted.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/serialize.h>
#include <torch/torch.h>
#include <zlib.h>

#include "cli_util.h"
#include "hwnas/core/io.h"
#include "hwnas/core/search_space.h"
#include "hwnas/export/kit.h"
#include "hwnas/export/kit_import.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

namespace fs = std::filesystem;
using hwnas::test::run_cli;

namespace {

const std::string A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
const std::string B = "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
const std::string kTiny = R"({"channels": 4, "cells_per_stage": 1})";

struct Case {
  std::string klass, name;
  std::vector<std::string> args;     // {d} is the fixture folder
  std::vector<std::string> expect;   // fragments of the message, {d} replaced too
};

std::string sub(std::string s, const std::string& d) { return std::regex_replace(s, std::regex(R"(\{d\})"), d); }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const auto rel = fs::relative(e.path(), dir).string();
    files[rel] = e.is_regular_file() ? slurp(e.path()) : std::string("<dir>");
  }
  return files;
}

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::vector<uint8_t> idx(uint32_t magic, const std::vector<uint32_t>& dims, size_t payload, uint8_t fill) {
  std::vector<uint8_t> b;
  for (uint32_t v : [&] { auto all = dims; all.insert(all.begin(), magic); return all; }())
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
  b.resize(b.size() + payload, fill);
  return b;
}

nlohmann::json experiment(const std::string& output) {
  return {{"space", {{"name", "nb201"}, {"config", nlohmann::json::parse(kTiny)}}},
          {"strategy", {{"name", "random"}}},
          {"evaluator", {{"name", "proxies"}, {"options", {{"proxies", {"params"}}, {"batch_size", 8}}},
                         {"data", {{"name", "synthetic"}, {"train_size", 16}, {"valid_size", 8}}}}},
          {"objectives", {{{"metric", "params"}, {"goal", "min"}}}},
          {"budget", {{"evaluations", 2}}},
          {"output", output}};
}

// The fixture folder: existing outputs, bad files of every kind, a trained run.
std::string make_fixture() {
  const auto d = hwnas::test::temp_dir("bad_input");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string deep_object;
  for (int i = 0; i < 100000; ++i) deep_object += "{\"a\":";
  deep_object += "1" + std::string(100000, '}');
  write(d + "/deep.json", deep);
  write(d + "/deepobj.json", deep_object);
  write(d + "/deep.jsonl", "{\"arch\": \"" + A + "\", \"acc\": " + deep + "}\n");
  write(d + "/big.json", R"({"num_classes": 1e400})");
  write(d + "/dup.json", R"({"channels": 8, "channels": 16})");
  write(d + "/empty.json", "  \n");
  write(d + "/trunc.json", R"({"channels": 8, )");
  fs::create_directories(d + "/dir");
  write(d + "/afile", "a file, not a folder\n");
  write(d + "/garbage.pt", "PK\x03\x04 not really a zip archive, and not LibTorch's either");
  // Existing outputs that no failed command may touch.
  write(d + "/out.json", "{\"keep\": true}\n");
  write(d + "/out.csv", "keep\n");
  write(d + "/outdir/keep.txt", "keep\n");
  // Arch tables and lists.
  write(d + "/data.csv", "arch,acc\n" + A + ",0.5\n" + B + ",0.6\n");
  write(d + "/dup.csv", "arch,latency_ms\n" + A + ",1.5\n" + A + ",2.5\n");
  write(d + "/nan.csv", "arch,acc\n" + A + ",nan\n" + B + ",0.6\n");
  write(d + "/inf.csv", "arch,acc\n" + A + ",0.5\n" + B + ",1e999\n");
  write(d + "/dup_archs.txt", A + "\n" + B + "\n" + A + "\n");
  write(d + "/dupkey_archs.json", "[{\"arch\": \"" + A + "\", \"acc\": 1, \"acc\": 2}]");
  // Datasets: a truncated CIFAR-10 batch, one with a CIFAR-100 label.
  write(d + "/cifar_trunc/data_batch_1.bin", std::string(3073 + 100, '\1'));
  write(d + "/cifar_label/data_batch_1.bin", std::string(1, '\x0c') + std::string(3072, '\2'));
  for (int b = 1; b <= 5; ++b) write(d + "/cifar_notest/data_batch_" + std::to_string(b) + ".bin", std::string(3073, '\3'));
  const auto npy = [](const std::string& descr, const std::string& shape, const std::string& fortran, size_t bytes) {
    std::string header = "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header + std::string(bytes, '\1');
  };
  write(d + "/npy_fortran/train_images.npy", npy("|u1", "(2, 4, 4)", "True", 32));
  write(d + "/npy_fortran/train_labels.npy", npy("<i8", "(2,)", "False", 16));
  write(d + "/npy_short/train_images.npy", npy("|u1", "(2, 4, 4)", "False", 20));
  write(d + "/npy_short/train_labels.npy", npy("<i8", "(2,)", "False", 16));
  write(d + "/npy_count/train_images.npy", npy("|u1", "(3, 4, 4)", "False", 48));
  write(d + "/npy_count/train_labels.npy", npy("<i8", "(2,)", "False", 16));
  // Image folders (a w x h grey-blue 24-bit BMP is written by hand: no image library here).
  const auto bmp = [](int w, int h) {
    const int row = (3 * w + 3) / 4 * 4, size = 54 + row * h;
    std::string b(static_cast<size_t>(size), '\0');
    const auto put = [&](int at, int value, int bytes) {
      for (int i = 0; i < bytes; ++i) b[static_cast<size_t>(at + i)] = static_cast<char>((value >> (8 * i)) & 0xff);
    };
    b[0] = 'B', b[1] = 'M';
    put(2, size, 4), put(10, 54, 4), put(14, 40, 4), put(18, w, 4), put(22, h, 4), put(26, 1, 2), put(28, 24, 2);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) put(54 + y * row + 3 * x, 0x806040, 3);
    return b;
  };
  write(d + "/imgf_loose/x.png", bmp(2, 2));
  fs::create_directories(d + "/imgf_empty/a");
  write(d + "/imgf_empty/b/x.bmp", bmp(2, 2));
  write(d + "/imgf_corrupt/a/bad.png", "text, not an image");
  write(d + "/imgf_damaged/a/bad.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16) + std::string(17, '\x01'));
  write(d + "/imgf_trunc/a/cut.jpg", std::string("\xff\xd8\xff\xe0\x00\x10JFIF", 10) + std::string(40, '\x11'));
  write(d + "/imgf_notest/a/x.bmp", bmp(2, 2));
  write(d + "/imgf_notest/b/x.bmp", bmp(2, 2));
  write(d + "/imgf_split/train/a/x.bmp", bmp(2, 2));
  write(d + "/imgf_split/train/b/x.bmp", bmp(2, 2));
  write(d + "/imgf_split/test/zebra/x.bmp", bmp(2, 2));
  write(d + "/imgf_mixed/a/x.bmp", bmp(2, 2));
  write(d + "/imgf_mixed/b/y.bmp", bmp(3, 2));
  // Tensor files as torch.save writes them (torch::pickle_save writes the same format).
  const auto tensor_file = [&](const std::string& path, const std::string& key, const torch::Tensor& images,
                               const torch::Tensor& labels) {
    c10::Dict<std::string, torch::Tensor> dict;
    dict.insert(key, images);
    dict.insert("labels", labels);
    const auto bytes = torch::pickle_save(c10::IValue(dict));
    write(path, std::string(bytes.begin(), bytes.end()));
  };
  tensor_file(d + "/pt_nokey/train.pt", "pixels", torch::zeros({2, 1, 2, 2}), torch::tensor({0, 1}));
  tensor_file(d + "/pt_floatlabels/train.pt", "images", torch::zeros({2, 1, 2, 2}), torch::tensor({0.0, 1.0}));
  tensor_file(d + "/pt_count/train.pt", "images", torch::zeros({3, 1, 2, 2}), torch::tensor({0, 1}));
  // Experiment configs.
  auto cfg = experiment(d + "/runs/x");
  write(d + "/cfg_big.json", sub(cfg.dump(), d).replace(1, 0, "\"seed\": 1e400, "));
  write(d + "/cfg_dupkey.json", cfg.dump().replace(1, 0, "\"seed\": 1, \"seed\": 2, "));
  write(d + "/cfg_types.json", [&] { auto c = cfg; c["evaluator"]["options"]["proxies"] = {1, 2}; return c.dump(); }());
  write(d + "/cfg_outdir.json", experiment(d + "/outdir").dump());
  write(d + "/cfg_cost_unknown.json", [&] { auto c = cfg; c["cost_models"] = {{{"name", "abacus"}}}; return c.dump(); }());
  write(d + "/cfg_cost_notlist.json", [&] { auto c = cfg; c["cost_models"] = "analytic"; return c.dump(); }());
  write(d + "/cfg_eval_unknown.json", [&] { auto c = cfg; c["evaluator"] = {{"name", "oracle"}}; return c.dump(); }());
  write(d + "/cfg_eval_field.json", [&] { auto c = cfg; c["evaluator"] = {{"name", "tabular"}, {"tabel", "t.csv"}}; return c.dump(); }());
  write(d + "/cfg_eval_notobj.json", [&] { auto c = cfg; c["evaluator"] = "proxies"; return c.dump(); }());
  write(d + "/cfg_cost_noname.json", [&] { auto c = cfg; c["cost_models"] = {{{"table", "t.json"}}}; return c.dump(); }());
  write(d + "/cfg_cost_learned.json", [&] {
    auto c = cfg;
    c["cost_models"] = {{{"name", "learned"}, {"predictor", "missing.json"}, {"device", "x"}}};
    return c.dump();
  }());
  // Learned latency model files, each named by a config.
  const auto learned_cfg = [&](const std::string& name, const nlohmann::json& model) {
    write(d + "/" + name + ".json", model.dump());
    auto c = cfg;
    c["cost_models"] = {{{"name", "learned"}, {"model", name + ".json"}}};
    write(d + "/cfg_" + name + ".json", c.dump());
  };
  const nlohmann::json learned = {{"format", "hwnas-learned-latency"}, {"version", 1}, {"device", "x"}, {"space", "nb201"},
                                  {"table", nullptr}, {"predictor", nlohmann::json::object()}};
  learned_cfg("learned_v2", [&] { auto m = learned; m["version"] = 2; return m; }());
  learned_cfg("learned_ratio", [&] { auto m = learned; m["table"] = {{"name", "latency@elsewhere"}}; return m; }());
  learned_cfg("learned_table", [&] { auto m = learned; m["table"] = 5; return m; }());
  // A run with a log but no checkpoint, and one whose checkpoint has negative counters.
  write(d + "/nockpt/config.json", experiment(d + "/nockpt").dump());
  write(d + "/nockpt/log.jsonl", "{\"index\": 0}\n");
  write(d + "/cfg_nockpt.json", experiment(d + "/nockpt").dump());
  // Latency tables.
  write(d + "/pred_format.json", R"({"format": 0, "version": 1})");
  // fuzz_tables finding 6: a GP's row count far beyond int64, once cast from a double.
  write(d + "/pred_rows.json", R"({"config": {"ard": true, "iterations": 150, "lr": 0.05, "min_noise": 0.0001}, )"
        R"("encoding": {"fingerprint": "e9520c6cf89e379b", "size": 30, "space": "nb201"}, "format": "hwnas-predictor", )"
        R"("predictor": "gp", "state": {"length_scales": [1.9], "noise_var": 0.008, "rows": 1333333333334622327076}, )"
        R"("target": "acc", "version": 1})");
  // A predictor file whose encoding kind this hwnas does not know.
  write(d + "/pred_kind.json", R"({"config": {"alpha": 1.0}, )"
        R"("encoding": {"fingerprint": "e9520c6cf89e379b", "size": 30, "space": "nb201", "kind": "paths"}, "format": "hwnas-predictor", )"
        R"("predictor": "ridge", "state": {}, "target": "acc", "version": 1})");
  // A predictor file whose graph layout does not fit its 30 features.
  write(d + "/pred_graph.json", R"({"config": {"alpha": 1.0}, )"
        R"("encoding": {"fingerprint": "e9520c6cf89e379b", "size": 30, "space": "nb201", "graph": {"offset": 0, "cells": 1, "nodes": 99, "types": 7}}, )"
        R"("format": "hwnas-predictor", "predictor": "ridge", "state": {}, "target": "acc", "version": 1})");
  // An OFA-style state dict whose tensor claims more values than any file can hold.
  write(d + "/sd_huge.json", R"({"0.weight": {"shape": [1099511627776, 1099511627776], "data": []}, "0.bias": {"shape": [1], "data": [0]}})");
  write(d + "/data4.csv", "arch,acc\n" + A + ",0.5\n" + B + ",0.6\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,0.1\n"
        "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|,0.2\n");
  write(d + "/table_float_version.json", R"({"format": "hwnas-latency-table", "version": 2e25, "sections": {}})");
  write(d + "/table_big.json", R"({"format": "hwnas-latency-table", "version": 1, "sections": {"": {"k": {"mean_ms": 1e400}}}})");
  write(d + "/table.json", R"({"format": "hwnas-latency-table", "version": 1, "space": "nb201", "sections": {"": {}}})");
  write(d + "/table_dup.json", R"({"format": "hwnas-latency-table", "version": 1, "version": 2, "sections": {}})");
  // IDX data: a header promising more than the file holds; a damaged trailer; counts.
  write_gz(d + "/idx_huge/train-images-idx3-ubyte.gz", idx(0x803, {16000000, 16000000, 16000000}, 0, 0));
  write_gz(d + "/idx_huge/train-labels-idx1-ubyte.gz", idx(0x801, {5}, 5, 1));
  write_gz(d + "/idx_count/train-images-idx3-ubyte.gz", idx(0x803, {5, 28, 28}, 5 * 784, 9));
  write_gz(d + "/idx_count/train-labels-idx1-ubyte.gz", idx(0x801, {4}, 4, 1));
  write_gz(d + "/idx_crc/train-images-idx3-ubyte.gz", idx(0x803, {5, 28, 28}, 5 * 784, 9));
  write_gz(d + "/idx_crc/train-labels-idx1-ubyte.gz", idx(0x801, {5}, 5, 1));
  {
    auto bytes = slurp(d + "/idx_crc/train-images-idx3-ubyte.gz");
    bytes[bytes.size() - 6] = static_cast<char>(bytes[bytes.size() - 6] ^ 0x5a);
    write(d + "/idx_crc/train-images-idx3-ubyte.gz", bytes);
  }
  // A trained run (synthetic data, a few steps), then copies with damaged files.
  const auto r = run_cli({"train", "--space", "nb201", "--space-config", kTiny, "--arch", A, "--data", "synthetic",
                          "--train-size", "64", "--test-size", "32", "--epochs", "1", "--batch-size", "32",
                          "--no-progress", "--out", d + "/trained"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  // A finished one-shot search (PC-DARTS on synthetic data), then its checkpoint damaged.
  const nlohmann::json oneshot{
      {"space", {{"name", "nb201"}, {"config", nlohmann::json::parse(kTiny)}}},
      {"strategy", {{"name", "pcdarts"}, {"epochs", 1}, {"steps_per_epoch", 2}, {"batch_size", 16}}},
      {"evaluator", {{"name", "none"}, {"data", {{"name", "synthetic"}, {"train_size", 64}, {"valid_size", 32}}}}},
      {"objectives", {{{"metric", "params"}, {"goal", "min"}}}},
      {"budget", {{"evaluations", 1}}},
      {"output", d + "/oneshot"}};
  write(d + "/cfg_oneshot.json", oneshot.dump());
  const auto os = run_cli({"search", "-c", d + "/cfg_oneshot.json", "--no-progress"});
  INFO(os.out << os.err);
  REQUIRE(os.code == 0);
  {
    auto bytes = slurp(d + "/oneshot/search.pt");
    bytes[bytes.size() - 5] = static_cast<char>(bytes[bytes.size() - 5] ^ 0x01);
    write(d + "/oneshot/search.pt", bytes);
  }
  fs::copy(d + "/trained", d + "/damaged", fs::copy_options::recursive);
  {
    // Flip one bit of the last tensor's bytes (the file ends with them).
    auto bytes = slurp(d + "/damaged/weights.pt");
    bytes[bytes.size() - 3] = static_cast<char>(bytes[bytes.size() - 3] ^ 0x01);
    write(d + "/damaged/weights.pt", bytes);
  }
  // Archive files cut short, without their hwnas header, or of another kind.
  fs::copy(d + "/trained", d + "/truncated", fs::copy_options::recursive);
  write(d + "/truncated/weights.pt", slurp(d + "/trained/weights.pt").substr(0, 300));
  fs::copy(d + "/trained", d + "/headerless", fs::copy_options::recursive);
  {
    const auto bytes = slurp(d + "/trained/weights.pt");
    write(d + "/headerless/weights.pt", bytes.substr(bytes.find('\n') + 1));
  }
  fs::copy(d + "/trained", d + "/wrong_kind", fs::copy_options::recursive);
  write(d + "/wrong_kind/checkpoint/checkpoint.pt", slurp(d + "/trained/weights.pt"));
  fs::remove(d + "/wrong_kind/weights.pt");
  fs::copy(d + "/trained", d + "/corrupt_ckpt", fs::copy_options::recursive);
  write(d + "/corrupt_ckpt/checkpoint/checkpoint.pt", "not a checkpoint");
  fs::remove(d + "/corrupt_ckpt/weights.pt");
  fs::copy(d + "/trained", d + "/deep_run", fs::copy_options::recursive);
  write(d + "/deep_run/arch.json", deep);
  write(d + "/supernet.pt.ckpt", "not a checkpoint");
  // A finished export, a search-like folder with a deep config, bad YAML, more tables.
  REQUIRE(run_cli({"export", "--run", d + "/trained", "--format", "torchscript"}).code == 0);
  write(d + "/deep_search/config.json", deep);
  write(d + "/deep_search/best.json", "{\"arch\": \"" + A + "\"}");
  write(d + "/badyaml/192_lookup_table.yaml", "key: [unclosed\n  - : :\n");
  write(d + "/yamlkey/192_lookup_table.yaml", "? [a, b]\n: {count: 1, mean: 1.0, std: 0.0}\n");
  write(d + "/table_other.json", R"({"format": "hwnas-latency-table", "version": 1, "space": "nb201", "space_config": {"channels": 99}, "sections": {"": {}}})");
  write(d + "/table_deep.json", R"({"format": "hwnas-latency-table", "version": 1, "sections": )" + deep + "}");
  write(d + "/neg.csv", "arch,latency_ms\n" + A + ",-1.5\n" + B + ",2.5\n");
  write(d + "/cfg_deepvalue.json", [&] { auto c = cfg.dump(); return c.replace(1, 0, "\"notes\": " + deep + ", "); }());
  write(d + "/cfg_unknown.json", [&] { auto c = cfg; c["budget"]["evaluationz"] = 3; return c.dump(); }());
  write(d + "/cfg_negbudget.json", [&] { auto c = cfg; c["budget"]["evaluations"] = -5; return c.dump(); }());
  write(d + "/cfg_population.json", [&] { auto c = cfg; c["strategy"] = {{"name", "evolution"}, {"population", 0}}; return c.dump(); }());
  write(d + "/cfg_strategy.json", [&] { auto c = cfg; c["strategy"] = "simulated_annealing"; return c.dump(); }());
  write(d + "/cfg_space.json", [&] { auto c = cfg; c["space"]["name"] = "nb301"; return c.dump(); }());
  write(d + "/cfg_constraint.json", [&] { auto c = cfg; c["constraints"] = {"params <=< 5"}; return c.dump(); }());
  write(d + "/cfg_array.json", "[1, 2, 3]");
  write(d + "/cfg_threads.json", sub(cfg.dump(), d).replace(1, 0, "\"threads\": 1e400, "));
  write(d + "/cfg_goal.json", [&] { auto c = cfg; c["objectives"][0]["goal"] = "maximize"; return c.dump(); }());
  write(d + "/cfg_noobj.json", [&] { auto c = cfg; c["objectives"] = nlohmann::json::array(); return c.dump(); }());
  write(d + "/cfg_metric.json", [&] { auto c = cfg; c["objectives"][0]["metric"] = "latency@phone"; return c.dump(); }());
  write(d + "/deep_best/config.json", experiment(d + "/deep_best").dump());
  write(d + "/deep_best/best.json", deep);
  write(d + "/empty.txt", "\n# only a comment\n");
  write(d + "/empty.csv", "");
  write(d + "/noarch.csv", "name,acc\nx,0.5\n");
  write(d + "/twoarch.csv", "arch,acc,arch\n" + A + ",0.5," + B + "\n");
  write(d + "/fields.csv", "arch,acc\n" + A + ",0.5,extra\n");
  // A profiling kit and bad results files of it.
  {
    auto space = hwnas::make_space("nb201", nlohmann::json::parse(kTiny));
    const auto kit = hwnas::exporting::write_profiling_kit(*space, hwnas::exporting::KitOptions().dir(d + "/kit").archs(0));
    nlohmann::json h = {{"format", "hwnas-kit-results"}, {"version", 1}, {"kit", kit.fingerprint}, {"runtime", "x"},
                        {"runtime_version", "1"}, {"device", "d"}, {"threads", 1}, {"protocol", {{"unit", "ms"}}}};
    const auto row = [](double ms) {
      return nlohmann::json{{"id", "OVERHEAD"}, {"median_ms", ms}, {"mean_ms", 1}, {"std_ms", 0}, {"count", 3}}.dump() + "\n";
    };
    write(d + "/kit_missing.jsonl", h.dump() + "\n" + row(0.01));
    write(d + "/kit_neg.jsonl", h.dump() + "\n" + row(-1));
    auto other = h;
    other["kit"] = "0123456789abcdef";
    write(d + "/kit_other.jsonl", other.dump() + "\n" + row(0.01));
    std::string ok = h.dump() + "\n" + row(0.01);  // every model: a kit without whole networks
    for (const auto& l : hwnas::exporting::ProfilingKit::load(d + "/kit").layers)
      ok += nlohmann::json{{"id", l.id}, {"median_ms", 0.02}, {"mean_ms", 0.02}, {"std_ms", 0}, {"count", 3}}.dump() + "\n";
    write(d + "/kit_ok.jsonl", ok);
    auto us = h;
    us["protocol"]["unit"] = "us";
    write(d + "/kit_us.jsonl", us.dump() + "\n" + row(10));
  }
  return d;
}

std::vector<Case> catalogue() {
  const std::vector<std::string> train_tiny{"--space", "nb201", "--space-config", kTiny, "--arch", A, "--data",
                                            "synthetic", "--train-size", "64", "--test-size", "32", "--epochs", "1",
                                            "--no-progress"};
  auto train = [&](std::vector<std::string> extra) {
    std::vector<std::string> a{"train"};
    a.insert(a.end(), train_tiny.begin(), train_tiny.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  return {
      // --- crash: deep nesting in every JSON input ----------------------------------
      {"crash", "space config file", {"sample", "--space-config", "@{d}/deep.json"}, {"{d}/deep.json", "256"}},
      {"crash", "inline space config", {"info", "--space-config", deep, "--arch", A}, {"--space-config", "256"}},
      {"crash", "experiment config", {"search", "-c", "{d}/deep.json"}, {"{d}/deep.json", "256"}},
      {"crash", "latency table", {"latency", "-t", "{d}/deep.json", "--arch", A}, {"{d}/deep.json", "256"}},
      {"crash", "predictor file", {"predictor", "predict", "--model", "{d}/deep.json", "--arch", A}, {"{d}/deep.json", "256"}},
      {"crash", "arch table (JSON)", {"evaluate", "--archs", "{d}/deep.json", "-e", "proxies", "--out", "{d}/new.csv"}, {"{d}/deep.json", "256"}},
      {"crash", "arch table (JSONL)", {"predictor", "fit", "--data", "{d}/deep.jsonl", "-t", "acc", "-o", "{d}/new.json"}, {"{d}/deep.jsonl line 1", "256"}},
      {"crash", "evaluator options", {"evaluate", "-e", "proxies", "--config", "@{d}/deepobj.json", "--out", "{d}/new.csv"}, {"{d}/deepobj.json", "256"}},
      {"crash", "supernet options", {"train-supernet", "--options", "@{d}/deep.json", "-o", "{d}/new.pt"}, {"{d}/deep.json", "256"}},
      {"crash", "predictor options", {"predictor", "fit", "--data", "{d}/data.csv", "-t", "acc", "--config", "@{d}/deepobj.json", "-o", "{d}/new.json"}, {"{d}/deepobj.json", "256"}},
      {"crash", "ofa arch", {"info", "--space", "ofa", "--arch", deep}, {"ofa arch", "256"}},
      {"crash", "run arch.json", {"export", "--run", "{d}/deep_run", "--out", "{d}/newexport"}, {"{d}/deep_run/arch.json", "256"}},
      // --- data loss: existing outputs are refused, nothing is replaced -----------------
      {"loss", "table import-ofa -o", {"table", "import-ofa", "--dir", hwnas::test::data_dir() + "/ofa/note10_lut", "-o", "{d}/out.json"}, {"{d}/out.json", "already exists", "--overwrite"}},
      {"loss", "predictor import-ofa --out", {"predictor", "import-ofa", "--in", hwnas::test::data_dir() + "/ofa/acc_predictor.json", "--out", "{d}/out.json"}, {"{d}/out.json", "already exists"}},
      {"loss", "predictor fit -o", {"predictor", "fit", "--data", "{d}/data.csv", "-t", "acc", "-o", "{d}/out.json"}, {"{d}/out.json", "already exists"}},
      {"loss", "predictor predict --out", {"predictor", "predict", "--model", "{d}/none.json", "--arch", A, "--out", "{d}/out.csv"}, {"{d}/out.csv", "already exists"}},
      {"loss", "calibrate --save", {"calibrate", "-t", "{d}/none.json", "--fit", "--save", "{d}/out.json"}, {"{d}/out.json", "already exists"}},
      {"loss", "calibrate --json", {"calibrate", "-t", "{d}/none.json", "--json", "{d}/out.json"}, {"{d}/out.json", "already exists"}},
      {"loss", "calibrate --save-learned", {"calibrate", "-t", "{d}/none.json", "--learned", "gp", "--save-learned", "{d}/out.json"}, {"{d}/out.json", "already exists"}},
      {"loss", "export --out", {"export", "--run", "{d}/trained", "--out", "{d}/outdir"}, {"{d}/outdir", "already exists"}},
      {"loss", "export --out onto a file", {"export", "--run", "{d}/trained", "--out", "{d}/out.json"}, {"{d}/out.json", "not a directory"}},
      {"loss", "profile --out", {"profile", "--space-config", kTiny, "--out", "{d}/out.json"}, {"{d}/out.json", "exists", "--resume"}},
      {"loss", "evaluate --out", {"evaluate", "-e", "proxies", "-n", "1", "--out", "{d}/out.csv"}, {"{d}/out.csv", "exists", "--overwrite"}},
      {"loss", "search into a folder that is no run", {"search", "-c", "{d}/cfg_outdir.json"}, {"{d}/outdir", "exists"}},
      {"loss", "search --overwrite of a folder that is no run", {"search", "-c", "{d}/cfg_outdir.json", "--overwrite"}, {"{d}/outdir", "not an hwnas search directory"}},
      {"loss", "search --resume of a log without checkpoint", {"search", "-c", "{d}/cfg_nockpt.json", "--resume"}, {"{d}/nockpt", "no checkpoint.json", "--overwrite"}},
      {"loss", "search --resume and --overwrite", {"search", "-c", "{d}/cfg_nockpt.json", "--resume", "--overwrite"}, {"--resume", "--overwrite"}},
      {"loss", "train over a trained run", train({"--out", "{d}/trained"}), {"{d}/trained", "not empty", "continue that training", "--resume"}},
      {"loss", "train --overwrite of a folder that is no run", train({"--out", "{d}/outdir", "--overwrite"}), {"{d}/outdir", "not an hwnas training directory", "left alone"}},
      {"loss", "train-supernet over existing weights", {"train-supernet", "--space-config", kTiny, "--data", "synthetic", "--train-size", "32", "-o", "{d}/out.json"}, {"{d}/out.json", "exists", "--resume"}},
      {"loss", "train-supernet over a checkpoint", {"train-supernet", "--space-config", kTiny, "--data", "synthetic", "--train-size", "32", "-o", "{d}/supernet.pt"}, {"{d}/supernet.pt.ckpt' beside it", "--resume"}},
      {"loss", "profile --resume --overwrite", {"profile", "--space-config", kTiny, "--out", "{d}/out.json", "--resume", "--overwrite"}, {"--resume", "--overwrite", "exclude each other"}},
      {"loss", "profile --kit onto an existing folder", {"profile", "--space-config", kTiny, "--kit", "{d}/outdir"}, {"{d}/outdir", "already exists", "--overwrite"}},
      {"loss", "profile --kit --overwrite of a folder that is no kit", {"profile", "--space-config", kTiny, "--kit", "{d}/outdir", "--overwrite"}, {"{d}/outdir", "not a profiling kit", "left alone"}},
      {"message", "profile with --out and --kit", {"profile", "--space-config", kTiny, "--out", "{d}/new.json", "--kit", "{d}/newkit"}, {"--out", "--kit", "not both"}},
      {"loss", "table import-kit -o", {"table", "import-kit", "--kit", "{d}/kit", "--results", "{d}/kit_missing.jsonl", "-o", "{d}/out.json"}, {"{d}/out.json", "already exists", "--overwrite"}},
      {"value", "kit results missing layers", {"table", "import-kit", "--kit", "{d}/kit", "--results", "{d}/kit_missing.jsonl", "-o", "{d}/new.json"}, {"{d}/kit_missing.jsonl", "lacks", "L0001 ("}},
      {"value", "a negative time in kit results", {"table", "import-kit", "--kit", "{d}/kit", "--results", "{d}/kit_neg.jsonl", "-o", "{d}/new.json"}, {"{d}/kit_neg.jsonl line 2", "\"median_ms\" is -1"}},
      {"value", "kit results of another kit", {"table", "import-kit", "--kit", "{d}/kit", "--results", "{d}/kit_other.jsonl", "-o", "{d}/new.json"}, {"{d}/kit_other.jsonl", "measured on kit 0123456789abcdef"}},
      {"value", "kit results in microseconds", {"table", "import-kit", "--kit", "{d}/kit", "--results", "{d}/kit_us.jsonl", "-o", "{d}/new.json"}, {"{d}/kit_us.jsonl line 1", "unit is 'us'"}},
      {"message", "profile with neither --out nor --kit", {"profile", "--space-config", kTiny}, {"--out", "--kit"}},
      // --- exit 3 for user input ----------------------------------------------------------
      {"internal", "1e400 in a space config", {"sample", "--space-config", "@{d}/big.json"}, {"1e400", "/num_classes"}},
      {"internal", "1e400 in an experiment config", {"search", "-c", "{d}/cfg_big.json"}, {"1e400", "/seed"}},
      {"value", "a float where a latency table needs an integer", {"latency", "-t", "{d}/table_float_version.json", "--arch", A}, {"{d}/table_float_version.json", "'version'", "must be an integer", "2e+25"}},
      {"internal", "1e400 in a latency table", {"latency", "-t", "{d}/table_big.json", "--arch", A}, {"1e400", "{d}/table_big.json"}},
      {"internal", "1e400 inline", {"sample", "--space-config", R"({"channels": -1e400})"}, {"-1e400", "/channels"}},
      {"internal", "numbers in the proxies list", {"proxies", "--config", R"({"proxies": [1, 2]})", "-n", "1", "--out", "{d}/new.csv"}, {"\"proxies\"[0]", "1"}},
      {"internal", "numbers in an experiment's proxies list", {"search", "-c", "{d}/cfg_types.json"}, {"\"proxies\"[0]"}},
      {"internal", "an IDX header promising 2^72 bytes", {"evaluate", "-e", "proxies", "-n", "1", "--data-dir", "{d}/idx_huge", "--out", "{d}/new.csv"}, {"{d}/idx_huge/train-images-idx3-ubyte.gz", "2^40"}},
      {"internal", "an IDX header promising 2^72 bytes (train)", {"train", "--space-config", kTiny, "--arch", A, "--data-dir", "{d}/idx_huge", "--out", "{d}/newrun"}, {"{d}/idx_huge/train-images-idx3-ubyte.gz"}},
      {"internal", "an output under /proc", {"table", "import-ofa", "--dir", hwnas::test::data_dir() + "/ofa/note10_lut", "-o", "/proc/hwnas-test/t.json"}, {"/proc/hwnas-test/t.json"}},
      {"internal", "a run directory under a file", train({"--out", "{d}/afile/run"}), {"{d}/afile/run"}},
      {"internal", "a profile under a file", {"profile", "--space-config", kTiny, "--out", "{d}/afile/t.json"}, {"{d}/afile/t.json"}},
      {"internal", "an export under a file", {"export", "--run", "{d}/trained", "--out", "{d}/afile/export"}, {"{d}/afile"}},
      // --- stack traces ---------------------------------------------------------------------
      {"trace", "corrupt training checkpoint", train({"--out", "{d}/corrupt_ckpt", "--resume"}), {"{d}/corrupt_ckpt/checkpoint/checkpoint.pt"}},
      {"trace", "corrupt supernet checkpoint", {"train-supernet", "--space-config", kTiny, "--data", "synthetic", "--train-size", "32", "-o", "{d}/supernet.pt", "--resume"}, {"{d}/supernet.pt.ckpt"}},
      {"trace", "garbage supernet weights", {"evaluate", "-e", "inherited", "--supernet", "{d}/garbage.pt", "--space-config", kTiny, "-n", "1", "--data", "synthetic", "--train-size", "16", "--valid-size", "8", "--out", "{d}/new.csv"}, {"{d}/garbage.pt"}},
      {"trace", "garbage supernet for fine-tuning", train({"--supernet", "{d}/garbage.pt", "--out", "{d}/newrun"}), {"{d}/garbage.pt"}},
      // --- misleading messages ----------------------------------------------------------------
      {"message", "a directory as experiment config", {"search", "-c", "{d}/dir"}, {"{d}/dir", "is a directory"}},
      {"message", "a directory as latency table", {"latency", "-t", "{d}/dir", "--arch", A}, {"{d}/dir", "is a directory"}},
      {"message", "a directory as predictor", {"predictor", "predict", "--model", "{d}/dir", "--arch", A}, {"{d}/dir", "is a directory"}},
      {"message", "a directory as arch table", {"predictor", "fit", "--data", "{d}/dir", "-t", "acc", "-o", "{d}/new.json"}, {"{d}/dir", "is a directory"}},
      {"message", "a directory as space config file", {"sample", "--space-config", "@{d}/dir"}, {"{d}/dir", "is a directory"}},
      {"message", "a directory as arch list", {"evaluate", "-e", "proxies", "--archs", "{d}/dir", "--out", "{d}/new.csv"}, {"{d}/dir", "is a directory"}},
      {"message", "an empty space config file", {"sample", "--space-config", "@{d}/empty.json"}, {"{d}/empty.json", "is empty"}},
      {"message", "an empty experiment config", {"search", "-c", "{d}/empty.json"}, {"{d}/empty.json", "is empty"}},
      {"message", "a truncated space config", {"sample", "--space-config", "@{d}/trunc.json"}, {"{d}/trunc.json", "not valid JSON", "line 1"}},
      {"message", "resume with another recipe", train({"--out", "{d}/trained", "--resume", "--lr", "0.01"}), {"/lr was 0.05, now 0.01"}},
      // --- bad values accepted ----------------------------------------------------------------
      {"value", "a negative seed", {"sample", "--seed", "-1"}, {"'-1'", "0 to 18446744073709551615"}},
      {"value", "an overflowing seed", {"sample", "--seed", "18446744073709551616"}, {"'18446744073709551616'"}},
      {"value", "a seed with letters", train({"--seed", "12abc", "--out", "{d}/newrun"}), {"'12abc'"}},
      {"value", "nan as learning rate", train({"--lr", "nan", "--out", "{d}/newrun"}), {"'nan'", "--lr"}},
      {"value", "inf as weight decay", train({"--weight-decay", "inf", "--out", "{d}/newrun"}), {"'inf'"}},
      {"value", "nan as test fraction", {"predictor", "eval", "--data", "{d}/data.csv", "-t", "acc", "--test-fraction", "nan"}, {"'nan'"}},
      {"value", "duplicate archs in an arch list", {"evaluate", "-e", "proxies", "--archs", "{d}/dup_archs.txt", "--out", "{d}/new.csv"}, {"{d}/dup_archs.txt line 3", "repeats line 1"}},
      {"value", "duplicate archs in measurements", {"calibrate", "-t", "{d}/table.json", "--measurements", "{d}/dup.csv"}, {"{d}/dup.csv line 3", "already appears on line 2"}},
      {"value", "nan in an arch table", {"predictor", "fit", "--data", "{d}/nan.csv", "-t", "acc", "-o", "{d}/new.json"}, {"{d}/nan.csv line 2", "'nan'"}},
      {"value", "1e999 in an arch table", {"predictor", "fit", "--data", "{d}/inf.csv", "-t", "acc", "-o", "{d}/new.json"}, {"{d}/inf.csv line 3", "'1e999'"}},
      {"value", "a duplicate key in a space config", {"sample", "--space-config", "@{d}/dup.json"}, {"\"channels\" appears twice"}},
      {"value", "an unknown cost model", {"search", "-c", "{d}/cfg_cost_unknown.json"}, {"'abacus'", "analytic, latency, learned"}},
      {"value", "cost_models that is no list", {"search", "-c", "{d}/cfg_cost_notlist.json"}, {"\"cost_models\"", "\"analytic\""}},
      {"value", "a cost model without a name", {"search", "-c", "{d}/cfg_cost_noname.json"}, {"\"name\"", "hwnas cost-models"}},
      {"message", "a learned cost model whose predictor is missing", {"search", "-c", "{d}/cfg_cost_learned.json"}, {"{d}/missing.json"}},
      {"value", "a learned latency model of a newer format", {"search", "-c", "{d}/cfg_learned_v2.json"}, {"{d}/learned_v2.json", "version 2", "upgrade hwnas"}},
      {"value", "a learned latency model without the table it learned on", {"search", "-c", "{d}/cfg_learned_ratio.json"}, {"{d}/learned_ratio.json", "latency@elsewhere", "\"table\""}},
      {"value", "a learned latency model whose table is no object", {"search", "-c", "{d}/cfg_learned_table.json"}, {"{d}/learned_table.json", "\"table\" must be null or an object"}},
      {"value", "calibrate with neither a table nor --learned", {"calibrate", "--measurements", "{d}/dup.csv"}, {"give --table", "--learned"}},
      {"value", "import-kit --learned on a kit without whole networks", {"table", "import-kit", "--kit", "{d}/kit", "--results", "{d}/kit_ok.jsonl", "-o", "{d}/new.json", "--learned", "ridge"}, {"--learned", "--archs", "here 0 of 0"}},
      {"value", "a duplicate key in an experiment config", {"search", "-c", "{d}/cfg_dupkey.json"}, {"\"seed\" appears twice", "{d}/cfg_dupkey.json"}},
      {"value", "a duplicate key in a latency table", {"latency", "-t", "{d}/table_dup.json", "--arch", A}, {"\"version\" appears twice"}},
      {"value", "a duplicate key in an arch table", {"evaluate", "-e", "proxies", "--archs", "{d}/dupkey_archs.json", "--out", "{d}/new.csv"}, {"\"acc\" appears twice"}},
      {"value", "a duplicate key inline", {"sample", "--space-config", R"({"channels": 8, "channels": 16})"}, {"\"channels\" appears twice", "--space-config"}},
      {"value", "damaged weights", {"export", "--run", "{d}/damaged", "--out", "{d}/newexport"}, {"{d}/damaged/weights.pt", "damaged"}},
      {"value", "a damaged differentiable search checkpoint", {"search", "-c", "{d}/cfg_oneshot.json", "--resume"}, {"{d}/oneshot/search.pt", "damaged", "start again"}},
      {"value", "truncated weights", {"export", "--run", "{d}/truncated", "--out", "{d}/newexport"}, {"{d}/truncated/weights.pt", "truncated", "train again"}},
      {"value", "weights without the hwnas header", {"export", "--run", "{d}/headerless", "--out", "{d}/newexport"}, {"{d}/headerless/weights.pt", "not an hwnas archive file"}},
      {"value", "weights given as a training checkpoint", train({"--out", "{d}/wrong_kind", "--resume"}), {"{d}/wrong_kind/checkpoint/checkpoint.pt", "holds a weights file, not a training checkpoint", "delete it"}},
      {"value", "weights given as supernet weights", {"evaluate", "-e", "inherited", "--supernet", "{d}/trained/weights.pt", "--space-config", kTiny, "-n", "1", "--data", "synthetic", "--train-size", "16", "--valid-size", "8", "--out", "{d}/new.csv"}, {"{d}/trained/weights.pt", "not a supernet weights file", "train-supernet"}},
      {"value", "label count disagreeing with the images", {"evaluate", "-e", "proxies", "-n", "1", "--data-dir", "{d}/idx_count", "--train-size", "2", "--valid-size", "1", "--out", "{d}/new.csv"}, {"{d}/idx_count/train-images-idx3-ubyte.gz", "holds 5 images", "4 labels"}},
      // --- more of every class, across commands and file kinds ------------------------------
      {"crash", "arch table (JSONL) for predictor eval", {"predictor", "eval", "--data", "{d}/deep.jsonl", "-t", "acc"}, {"{d}/deep.jsonl line 1", "256"}},
      {"crash", "measurements (JSON)", {"calibrate", "-t", "{d}/table.json", "--measurements", "{d}/deep.json"}, {"{d}/deep.json", "256"}},
      {"crash", "proxies options", {"proxies", "--config", "@{d}/deep.json", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/deep.json", "256"}},
      {"crash", "a deep value inside an experiment config", {"search", "-c", "{d}/cfg_deepvalue.json"}, {"{d}/cfg_deepvalue.json", "256", "/notes"}},
      {"crash", "a deep latency table section", {"latency", "-t", "{d}/table_deep.json", "--arch", A}, {"{d}/table_deep.json", "256", "/sections"}},
      {"crash", "a search run's config.json", {"train", "--from-search", "{d}/deep_search", "--out", "{d}/newrun"}, {"{d}/deep_search/config.json", "256"}},
      {"crash", "darts space config", {"info", "--space", "darts", "--space-config", "@{d}/deep.json", "--arch", "x"}, {"{d}/deep.json", "256"}},
      {"crash", "mobilenet space config", {"info", "--space", "mobilenet", "--space-config", "@{d}/deepobj.json", "--arch", "x"}, {"{d}/deepobj.json", "256"}},
      {"crash", "ofa space config", {"sample", "--space", "ofa", "--space-config", "@{d}/deep.json"}, {"{d}/deep.json", "256"}},
      {"crash", "train's space config", {"train", "--space-config", "@{d}/deep.json", "--arch", A, "--out", "{d}/newrun"}, {"{d}/deep.json", "256"}},
      {"loss", "predictor fit -o onto a folder", {"predictor", "fit", "--data", "{d}/data.csv", "-t", "acc", "-o", "{d}/dir"}, {"{d}/dir", "is a directory"}},
      {"loss", "table import-ofa -o onto a folder", {"table", "import-ofa", "--dir", hwnas::test::data_dir() + "/ofa/note10_lut", "-o", "{d}/dir", "--overwrite"}, {"{d}/dir", "is a directory"}},
      {"loss", "calibrate --json onto a folder", {"calibrate", "-t", "{d}/table.json", "--json", "{d}/dir"}, {"{d}/dir", "is a directory"}},
      {"loss", "export again over a finished export", {"export", "--run", "{d}/trained"}, {"{d}/trained/export", "already exists", "--overwrite"}},
      {"loss", "evaluate --overwrite onto a folder", {"evaluate", "-e", "proxies", "-n", "1", "--out", "{d}/dir", "--overwrite"}, {"{d}/dir", "is a directory"}},
      {"loss", "predictor import-ofa --out onto a folder", {"predictor", "import-ofa", "--in", hwnas::test::data_dir() + "/ofa/acc_predictor.json", "--out", "{d}/dir"}, {"{d}/dir", "is a directory"}},
      {"internal", "1e400 in a predictor's options", {"predictor", "fit", "--data", "{d}/data.csv", "-t", "acc", "-p", "ridge", "--config", R"({"alpha": 1e400})", "-o", "{d}/new.json"}, {"1e400", "/alpha"}},
      {"internal", "1e400 in the evaluator options", {"evaluate", "-e", "proxies", "--config", R"({"batch_size": 1e400})", "--out", "{d}/new.csv"}, {"1e400", "/batch_size"}},
      {"internal", "a huge input size", {"info", "--space-config", R"({"input_size": 1e308})", "--arch", A}, {"input_size", "1e+308"}},
      {"internal", "a latency table of another space configuration", {"latency", "-t", "{d}/table_other.json", "--arch", A}, {"another configuration", "channels (table 99, space"}},
      {"internal", "bad YAML in an OFA table folder", {"table", "import-ofa", "--dir", "{d}/badyaml", "-o", "{d}/new.json"}, {"{d}/badyaml/192_lookup_table.yaml"}},
      {"value", "an impossible tensor shape in an OFA predictor", {"predictor", "import-ofa", "--in", "{d}/sd_huge.json", "--out", "{d}/new.json"}, {"{d}/sd_huge.json", "impossible shape [1099511627776, 1099511627776]"}},
      {"trace", "a CSV as the OFA accuracy predictor", {"predictor", "import-ofa", "--in", "{d}/data.csv", "--out", "{d}/new.json"}, {"{d}/data.csv", "not valid JSON"}},
      {"trace", "garbage as a training checkpoint when resuming", {"train", "--space-config", kTiny, "--arch", A, "--data", "synthetic", "--train-size", "64", "--test-size", "32", "--epochs", "1", "--no-progress", "--resume", "--out", "{d}/corrupt_ckpt"}, {"checkpoint.pt", "delete it"}},
      {"trace", "a text file as weights", {"export", "--run", "{d}/trained", "--out", "{d}/newexport", "--table", "{d}/garbage.pt"}, {"{d}/garbage.pt"}},
      {"message", "a missing experiment config", {"search", "-c", "{d}/none.json"}, {"{d}/none.json", "no such file"}},
      {"message", "a missing run", {"export", "--run", "{d}/none"}, {"{d}/none", "No run directory"}},
      {"message", "an empty folder as a run", {"export", "--run", "{d}/dir"}, {"{d}/dir", "holds no trained model"}},
      {"message", "a folder that is no search run", {"train", "--from-search", "{d}/outdir", "--out", "{d}/newrun"}, {"{d}/outdir", "not a finished search run"}},
      {"message", "an experiment config that is an array", {"search", "-c", "{d}/cfg_array.json"}, {"{d}/cfg_array.json"}},
      {"message", "an unknown key in an experiment config", {"search", "-c", "{d}/cfg_unknown.json"}, {"evaluationz"}},
      {"message", "an unknown strategy", {"search", "-c", "{d}/cfg_strategy.json"}, {"simulated_annealing", "random"}},
      {"message", "an unknown space in a config", {"search", "-c", "{d}/cfg_space.json"}, {"nb301", "nb201"}},
      {"message", "a malformed constraint", {"search", "-c", "{d}/cfg_constraint.json"}, {"params <=< 5"}},
      {"message", "an unknown space", {"sample", "--space", "nb301"}, {"nb301", "nb201"}},
      {"message", "a malformed arch", {"info", "--arch", "|bogus~0|"}, {"|bogus~0|"}},
      {"message", "an unknown predictor", {"predictor", "fit", "--data", "{d}/data.csv", "-t", "acc", "-p", "svm", "-o", "{d}/new.json"}, {"svm"}},
      {"message", "an unknown target column", {"predictor", "fit", "--data", "{d}/data.csv", "-t", "accuracy", "-o", "{d}/new.json"}, {"accuracy", "acc"}},
      {"message", "an unknown evaluator", {"evaluate", "-e", "oracle", "--out", "{d}/new.csv"}, {"oracle", "short_training"}},
      {"message", "an unknown evaluator in a config", {"search", "-c", "{d}/cfg_eval_unknown.json"}, {"oracle", "short_training", "hwnas evaluators"}},
      {"message", "a misspelt evaluator field", {"search", "-c", "{d}/cfg_eval_field.json"}, {"tabel"}},
      {"value", "an evaluator that is not an object", {"search", "-c", "{d}/cfg_eval_notobj.json"}, {"evaluator", "\"proxies\""}},
      {"message", "an unknown command", {"serach"}, {"serach", "search"}},
      {"value", "a space config that is an array", {"sample", "--space-config", "[]"}, {"'nb201'", "must be a JSON object"}},
      {"value", "zero channels", {"sample", "--space-config", R"({"channels": 0})"}, {"channels", "0"}},
      {"value", "a truncated CIFAR-10 batch", {"evaluate", "-e", "proxies", "--data", "cifar10", "--data-dir", "{d}/cifar_trunc", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/cifar_trunc/data_batch_1.bin", "3173 bytes", "3073-byte records"}},
      {"value", "a CIFAR-100 label in a CIFAR-10 batch", {"train", "--arch", A, "--data", "cifar10", "--data-dir", "{d}/cifar_label", "--train-size", "1", "--out", "{d}/newrun"}, {"{d}/cifar_label/data_batch_1.bin", "label 12", "0..9"}},
      {"value", "a CIFAR-10 folder without its test batch", {"train", "--arch", A, "--data", "cifar10", "--data-dir", "{d}/cifar_notest", "--out", "{d}/newrun"}, {"{d}/cifar_notest/test_batch.bin", "missing", "--data-dir"}},
      {"value", "a NumPy file in Fortran order", {"evaluate", "-e", "proxies", "--data", "npy", "--data-dir", "{d}/npy_fortran", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/npy_fortran/train_images.npy", "Fortran order", "C order"}},
      {"value", "a truncated NumPy file", {"evaluate", "-e", "proxies", "--data", "npy", "--data-dir", "{d}/npy_short", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/npy_short/train_images.npy", "truncated", "32 bytes"}},
      {"value", "NumPy images and labels of different counts", {"evaluate", "-e", "proxies", "--data", "npy", "--data-dir", "{d}/npy_count", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/npy_count/train_images.npy", "3 images", "2 labels"}},
      {"value", "images at an image folder's top level", {"evaluate", "-e", "proxies", "--data", "image-folder", "--data-dir", "{d}/imgf_loose", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/imgf_loose", "top level", "x.png", "<class>"}},
      {"value", "an empty class folder", {"evaluate", "-e", "proxies", "--data", "image-folder", "--data-dir", "{d}/imgf_empty", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/imgf_empty/a", "holds no images"}},
      {"value", "a corrupt image", {"evaluate", "-e", "proxies", "--data", "image-folder", "--data-dir", "{d}/imgf_corrupt", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/imgf_corrupt/a/bad.png", "not a PNG, JPEG, BMP or WebP", "--skip-bad-images"}},
      {"value", "a PNG with a bad checksum", {"evaluate", "-e", "proxies", "--data", "image-folder", "--data-dir", "{d}/imgf_damaged", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/imgf_damaged/a/bad.png", "damaged PNG", "checksum"}},
      {"value", "a truncated JPEG", {"evaluate", "-e", "proxies", "--data", "image-folder", "--data-dir", "{d}/imgf_trunc", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/imgf_trunc/a/cut.jpg", "truncated"}},
      {"value", "an image folder without a test part", {"train", "--arch", A, "--data", "image-folder", "--data-dir", "{d}/imgf_notest", "--out", "{d}/newrun"}, {"{d}/imgf_notest", "no test part", "test/<class>/"}},
      {"value", "a test class the training part lacks", {"train", "--arch", A, "--data", "image-folder", "--data-dir", "{d}/imgf_split", "--out", "{d}/newrun"}, {"{d}/imgf_split/test/zebra", "training part"}},
      {"value", "images of another size with convert off", {"evaluate", "-e", "proxies", "--data", "image-folder", "--data-dir", "{d}/imgf_mixed", "--data-config", R"({"size": 2, "convert": false})", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/imgf_mixed/b/y.bmp", "3x2", "\"convert\""}},
      {"value", "two image channels", {"evaluate", "-e", "proxies", "--data", "image-folder", "--data-dir", "{d}/imgf_mixed", "--data-config", R"({"channels": 2})", "-n", "1", "--out", "{d}/new.csv"}, {"channels", "2"}},
      {"value", "--skip-bad-images on a dataset without images", {"evaluate", "-e", "proxies", "--data", "synthetic", "--skip-bad-images", "-n", "1", "--out", "{d}/new.csv"}, {"skip_bad_images"}},
      {"value", "a tensor file without \"images\"", {"evaluate", "-e", "proxies", "--data", "tensors", "--data-dir", "{d}/pt_nokey", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/pt_nokey/train.pt", "no \"images\"", "torch.save"}},
      {"value", "a tensor file with float labels", {"evaluate", "-e", "proxies", "--data", "tensors", "--data-dir", "{d}/pt_floatlabels", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/pt_floatlabels/train.pt", "whole numbers"}},
      {"value", "a tensor file with more images than labels", {"evaluate", "-e", "proxies", "--data", "tensors", "--data-dir", "{d}/pt_count", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/pt_count/train.pt", "3 images", "2 labels"}},
      {"message", "an unknown dataset", {"evaluate", "-e", "proxies", "--data", "imagenet", "-n", "1", "--out", "{d}/new.csv"}, {"imagenet", "cifar10", "fashion-mnist"}},
      {"value", "a misspelt dataset option", {"evaluate", "-e", "proxies", "--data", "synthetic", "--data-config", R"({"colour": 3})", "-n", "1", "--out", "{d}/new.csv"}, {"colour"}},
      {"value", "mnist without a folder", {"evaluate", "-e", "proxies", "--data", "mnist", "-n", "1", "--out", "{d}/new.csv"}, {"--data-dir", "mnist"}},
      {"value", "channels as text", {"sample", "--space-config", R"({"channels": "8"})"}, {"channels", "\"8\""}},
      {"value", "a negative evaluation budget", {"search", "-c", "{d}/cfg_negbudget.json"}, {"-5"}},
      {"value", "an empty population", {"search", "-c", "{d}/cfg_population.json"}, {"population", "0"}},
      {"value", "zero epochs", train({"--epochs", "0", "--out", "{d}/newrun"}), {"--epochs", "0"}},
      {"value", "zero archs", {"sample", "-n", "0"}, {"-n", "0"}},
      {"value", "negative threads", {"--threads", "-1", "sample"}, {"--threads", "-1"}},
      {"value", "a negative latency measurement", {"calibrate", "-t", "{d}/table.json", "--measurements", "{d}/neg.csv"}, {"{d}/neg.csv", "line 2", "-1.5"}},
      {"value", "an opset outside 13-17", {"export", "--run", "{d}/trained", "--opset", "12", "--out", "{d}/newexport"}, {"--opset", "12"}},
      {"value", "an unknown export format", {"export", "--run", "{d}/trained", "--format", "tflite", "--out", "{d}/newexport"}, {"tflite", "torchscript"}},
      {"value", "an export format given twice", {"export", "--run", "{d}/trained", "--format", "onnx,onnx", "--out", "{d}/newexport"}, {"'onnx'", "model.onnx", "once"}},
      {"crash", "a saved predictor for predictor eval", {"predictor", "eval", "--model", "{d}/deep.json", "--data", "{d}/data.csv", "-t", "acc"}, {"{d}/deep.json", "256"}},
      {"crash", "a search run's best.json", {"train", "--from-search", "{d}/deep_best", "--out", "{d}/newrun"}, {"{d}/deep_best/best.json", "256"}},
      {"crash", "a tabular evaluator's table", {"evaluate", "-e", "tabular", "--table", "{d}/deep.json", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/deep.json", "256"}},
      {"crash", "a predictor evaluator's predictor", {"evaluate", "-e", "predictor", "--predictor", "{d}/deep.json", "-n", "1", "--out", "{d}/new.csv"}, {"{d}/deep.json", "256"}},
      {"crash", "an export's latency table", {"export", "--run", "{d}/trained", "--out", "{d}/newexport", "--table", "{d}/deep.json"}, {"{d}/deep.json", "256"}},
      {"loss", "evaluate --resume onto a CSV that is no arch table", {"evaluate", "-e", "proxies", "-n", "1", "--resume", "--out", "{d}/out.csv"}, {"{d}/out.csv", "'arch' column"}},
      {"loss", "table import-ofa under a file", {"table", "import-ofa", "--dir", hwnas::test::data_dir() + "/ofa/note10_lut", "-o", "{d}/afile/t.json"}, {"{d}/afile/t.json"}},
      {"internal", "1e400 inline", {"sample", "--space-config", R"({"num_classes": 1e400})"}, {"1e400", "/num_classes", "--space-config"}},
      {"internal", "1e400 as threads", {"search", "-c", "{d}/cfg_threads.json"}, {"1e400", "/threads"}},
      {"internal", "1e400 in a hidden layer size", {"predictor", "fit", "--data", "{d}/data.csv", "-t", "acc", "-p", "mlp", "--config", R"({"hidden": [1e400]})", "-o", "{d}/new.json"}, {"1e400", "/hidden/0"}},
      {"internal", "a list as the number of steps", {"evaluate", "-e", "short_training", "--config", R"({"steps": [1, 2]})", "--out", "{d}/new.csv"}, {"steps", "[1,2]"}},
      {"internal", "text as the number of epochs", {"train-supernet", "--space-config", kTiny, "--data", "synthetic", "--train-size", "32", "--options", R"({"epochs": "two"})", "-o", "{d}/new.pt"}, {"epochs", "\"two\""}},
      {"internal", "a number as the sampling rule", {"train-supernet", "--space-config", kTiny, "--data", "synthetic", "--train-size", "32", "--options", R"({"rule": 5})", "-o", "{d}/new.pt"}, {"rule", "5"}},
      {"message", "a missing latency table", {"calibrate", "-t", "{d}/none.json"}, {"{d}/none.json", "no such file"}},
      {"message", "an empty latency table", {"latency", "-t", "{d}/empty.json", "--arch", A}, {"{d}/empty.json", "is empty"}},
      {"value", "a predictor state's row count beyond int64", {"predictor", "predict", "--model", "{d}/pred_rows.json", "--arch", A}, {"{d}/pred_rows.json", "\"rows\"", "must be an integer"}},
      {"message", "a predictor file whose format is a number", {"predictor", "predict", "--model", "{d}/pred_format.json", "--arch", A}, {"{d}/pred_format.json", "not an hwnas predictor", "hwnas predictor fit"}},
      {"message", "an empty predictor file", {"predictor", "eval", "--model", "{d}/empty.json", "--data", "{d}/data.csv", "-t", "acc"}, {"{d}/empty.json", "is empty"}},
      {"message", "an arch list without archs", {"evaluate", "-e", "proxies", "--archs", "{d}/empty.txt", "--out", "{d}/new.csv"}, {"{d}/empty.txt", "has no archs"}},
      {"message", "a missing arch list", {"evaluate", "-e", "proxies", "--archs", "{d}/none.txt", "--out", "{d}/new.csv"}, {"{d}/none.txt", "no such file"}},
      {"message", "an empty arch table", {"predictor", "fit", "--data", "{d}/empty.csv", "-t", "acc", "-o", "{d}/new.json"}, {"{d}/empty.csv", "is empty"}},
      {"message", "an arch table without an arch column", {"predictor", "fit", "--data", "{d}/noarch.csv", "-t", "acc", "-o", "{d}/new.json"}, {"{d}/noarch.csv", "'arch' column"}},
      {"message", "a row with more fields than the header", {"predictor", "fit", "--data", "{d}/fields.csv", "-t", "acc", "-o", "{d}/new.json"}, {"{d}/fields.csv line 2", "expected 2 fields"}},
      {"message", "a truncated experiment config", {"search", "-c", "{d}/trunc.json"}, {"{d}/trunc.json", "not valid JSON"}},
      {"message", "a malformed arch to train", {"train", "--space-config", kTiny, "--arch", "x", "--data", "synthetic", "--train-size", "64", "--test-size", "32", "--out", "{d}/newrun"}, {"'x'"}},
      {"message", "an ofa arch with too few kernels", {"info", "--space", "ofa", "--arch", R"({"ks": [3], "e": [3], "d": [2], "r": [224]})"}, {"'ks'"}},
      {"value", "an unknown key in a space config", {"sample", "--space-config", R"({"chanels": 8})"}, {"'chanels'", "valid keys"}},
      {"value", "an unknown objective goal", {"search", "-c", "{d}/cfg_goal.json"}, {"maximize"}},
      {"value", "no objectives", {"search", "-c", "{d}/cfg_noobj.json"}, {"objective"}},
      {"value", "an objective on a table that is not given", {"search", "-c", "{d}/cfg_metric.json"}, {"latency@phone"}},
      {"value", "a batch size of 0", train({"--batch-size", "0", "--out", "{d}/newrun"}), {"--batch-size", "0"}},
      {"value", "label smoothing 1.5", train({"--label-smoothing", "1.5", "--out", "{d}/newrun"}), {"--label-smoothing", "1.5"}},
      {"value", "more training images than the file has", {"train", "--arch", A, "--train-size", "70000", "--out", "{d}/newrun"}, {"--train-size", "70000", "60000"}},
      {"value", "more test images than the file has", {"train", "--arch", A, "--test-size", "10001", "--out", "{d}/newrun"}, {"--test-size", "10001", "10000"}},
      {"value", "zero archs to evaluate", {"evaluate", "-e", "proxies", "-n", "0", "--out", "{d}/new.csv"}, {"-n", "0"}},
      {"value", "one arch to calibrate on", {"calibrate", "-t", "{d}/table.json", "-n", "1"}, {"-n", "1"}},
      {"value", "as many warm-up epochs as epochs", train({"--warmup-epochs", "1", "--out", "{d}/newrun"}), {"warmup_epochs", "fewer than the 1 epochs"}},
      {"value", "two columns named arch (found by fuzz_files)", {"predictor", "fit", "--data", "{d}/twoarch.csv", "-t", "acc", "-o", "{d}/new.json"}, {"{d}/twoarch.csv line 1", "'arch' appears twice"}},
      {"value", "a list as a layer key in an OFA table (found by fuzz_tables)", {"table", "import-ofa", "--dir", "{d}/yamlkey", "-o", "{d}/new.json"}, {"{d}/yamlkey/192_lookup_table.yaml", "line 1", "not a layer name"}},
      {"value", "an unknown encoding kind in a predictor file", {"predictor", "predict", "--model", "{d}/pred_kind.json", "--arch", A}, {"{d}/pred_kind.json", "'paths'", "use one of"}},
      {"value", "an unknown --encoding", {"predictor", "fit", "--data", "{d}/data.csv", "-t", "acc", "-e", "onehot+pth", "-o", "{d}/new.json"}, {"'pth'", "use one of"}},
      {"value", "an encoding for another space", {"predictor", "fit", "--data", "{d}/data.csv", "-t", "acc", "-e", "stages", "-o", "{d}/new.json"}, {"'stages'", "nb201", "use \"onehot\""}},
      {"value", "a graph predictor on an encoding without cell graphs", {"predictor", "fit", "--data", "{d}/data4.csv", "-t", "acc", "-p", "gcn", "-e", "path", "-o", "{d}/new.json"}, {"'path'", "no cell graph", "use the \"graph\" encoding"}},
      {"value", "a predictor file's graph layout beyond its features", {"predictor", "predict", "--model", "{d}/pred_graph.json", "--arch", A}, {"{d}/pred_graph.json", "'encoding.graph'", "does not fit in the 30 features", "write the predictor again"}},
      {"value", "a predictor config's encoding not a string", {"predictor", "fit", "--data", "{d}/data.csv", "-t", "acc", "--config", R"({"encoding": 3})", "-o", "{d}/new.json"}, {"\"encoding\"", "must be a string"}},
      {"value", "damaged gzip data past the part read", {"evaluate", "-e", "proxies", "-n", "1", "--data-dir", "{d}/idx_crc", "--train-size", "2", "--valid-size", "1", "--out", "{d}/new.csv"}, {"{d}/idx_crc/train-images-idx3-ubyte.gz", "corrupt"}},
  };
}

}  // namespace

TEST_CASE("The bad-input catalogue: exit 2, one line naming the input and the fix, no file changed",
          "[cli][bad_input]") {
  const auto d = make_fixture();
  const auto before = snapshot(d);
  // The fix: what to do, or what would be valid (the range, the valid names, the form).
  const std::regex fix(R"(\b(give|pass|choose|use|install|set|fix|keep|write|check|restore|start|remove|lower|delete|put|add|rename|replace|)"
                       R"(leave|configure|run|point|profile|train|wait|resume|average|list|upgrade|flatten|finish|)"
                       R"(hwnas reads|it is kept|nothing was replaced|is left alone|valid names|valid keys|)"
                       R"(valid commands|its columns|metrics are|expected|must be|to be in|to be an|allowed|one of)\b)",
                       std::regex::icase);
  std::map<std::string, int> per_class;
  for (const auto& c : catalogue()) {
    std::vector<std::string> args;
    for (const auto& a : c.args) args.push_back(sub(a, d));
    const auto r = run_cli(args);
    INFO(c.klass << " / " << c.name << ": exit " << r.code << "\nstdout: " << r.out.substr(0, 400) << "\nstderr: "
                 << r.err.substr(0, 1000));
    CHECK(r.code == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.rfind("hwnas: error: ", 0) == 0);
    for (const auto& e : c.expect) CHECK(r.err.find(sub(e, d)) != std::string::npos);
    CHECK(std::regex_search(r.err, fix));
    CHECK(r.err.find("Exception raised from") == std::string::npos);
    CHECK(r.err.find("frame #") == std::string::npos);
    const auto after = snapshot(d);
    CHECK(after == before);
    if (after != before)
      for (const auto& [f, content] : after)
        if (!before.count(f) || before.at(f) != content) FAIL_CHECK("changed or new: " << f);
    ++per_class[c.klass];
  }
  // At least three cases per class.
  for (const char* k : {"crash", "loss", "internal", "trace", "message", "value"}) {
    INFO(k);
    CHECK(per_class[k] >= 3);
  }
}

TEST_CASE("A run directory in use by another holder is refused, naming the holder", "[cli][bad_input]") {
  const auto d = hwnas::test::temp_dir("bad_input_lock");
  const auto lock = hwnas::OutputLock::directory(d + "/run");
  const auto r = run_cli({"train", "--space", "nb201", "--space-config", kTiny, "--arch", A, "--data", "synthetic",
                          "--train-size", "64", "--test-size", "32", "--epochs", "1", "--no-progress", "--out",
                          d + "/run"});
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find(d + "/run") != std::string::npos);
  CHECK(r.err.find("in use by process " + std::to_string(::getpid())) != std::string::npos);
  CHECK_FALSE(fs::exists(d + "/run/arch.json"));
}
