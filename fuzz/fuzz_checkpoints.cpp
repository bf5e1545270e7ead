// Every checkpoint kind and weights files: the bytes of a weights file, a training
// checkpoint, a supernet checkpoint, a differentiable-search checkpoint and supernet
// weights as their loaders read them (header, size and checksum first: core/archive.h),
// and a search checkpoint's strategy state (every built-in strategy, then asked and told).
//
// The first byte picks the mode:
//   0-4  the file's bytes, as found on disk, for kind 0-4 (see kKinds)
//   5    a search checkpoint's strategy state (JSON); the second byte picks the strategy
//   6    a payload behind a valid header of the kind the second byte picks: the entry
//        parser behind the checksum (a file that passed it but is still malformed)
//   7    the metadata JSON of a valid archive of the kind the second byte picks (2 and 3
//        hold "meta", 1 holds "state"): the checks of what a checkpoint says
//
// HWNAS_FUZZ_WRITE_CORPUS=DIR writes one valid seed per mode and kind into DIR and exits
// (the committed corpus fuzz/corpus/checkpoints/ was made so).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/archive.h"
#include "fuzz_util.h"
#include "hwnas/core/io.h"
#include "hwnas/core/json.h"
#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"
#include "hwnas/core/threads.h"
#include "hwnas/data/synthetic.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/nn/network.h"
#include "hwnas/oneshot/differentiable.h"
#include "hwnas/oneshot/supernet_training.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/strategy/strategy.h"
#include "hwnas/train/final_training.h"
#include "train/training_checkpoint.h"

namespace {

using namespace hwnas;

// The archive kinds of modes 0-4, as core/archive.h names them.
const char* const kKinds[] = {"weights-file", "training-checkpoint", "supernet-checkpoint",
                              "differentiable-checkpoint", hwnas::detail::kSupernetWeightsKind};
const char* const kStrategies[] = {"random", "evolution", "nsga2", "rl"};

struct Fixture {
  std::shared_ptr<SearchSpace> space{make_space("nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_channels", 1}, {"input_size", 8}})};
  std::shared_ptr<nn::Network> net;
  std::unique_ptr<torch::optim::SGD> sgd;
  train::FinalTrainingOptions train_options = train::FinalTrainingOptions().epochs(3).fingerprint("fuzz");
  std::unique_ptr<oneshot::SupernetTrainer> trainer;
  std::unique_ptr<oneshot::DifferentiableSearch> search;

  Fixture() {
    set_threads(1);
    Rng rng(7);
    net = space->build(space->sample(rng), BuildOptions().seed(7));
    sgd = std::make_unique<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    torch::manual_seed(7);
    sgd->zero_grad();
    torch::nn::functional::cross_entropy(net->forward(torch::randn({2, 1, 8, 8})), torch::tensor({1, 2})).backward();
    sgd->step();  // so the optimizer has momentum buffers to save and check
    trainer = std::make_unique<oneshot::SupernetTrainer>(space, oneshot::SupernetTrainOptions().epochs(1));
    search = std::make_unique<oneshot::DifferentiableSearch>(space, oneshot::DifferentiableOptions().epochs(1));
  }

  // Loads the file at `path` as kind k (0-4).
  void load(int k, const std::string& path) {
    switch (k) {
      case 0: train::load_weights(*net, path); break;
      case 1: (void)train::detail::load_training_checkpoint(path, *net, *sgd, train_options); break;
      case 2: trainer->load(path); break;
      case 3: search->load(path); break;
      default: (void)estimate::load_supernet(*space, path); break;
    }
  }

  // A strategy set up as the runner sets it up.
  std::unique_ptr<strategy::Strategy> make(int s) const {
    // A small RL policy keeps its state (every weight, as JSON) a few kilobytes.
    auto st = strategy::make_strategy(kStrategies[s], s == 3 ? nlohmann::json{{"hidden", 4}} : nlohmann::json::object());
    st->setup(space, {{"accuracy", strategy::Direction::kMaximize}, {"latency", strategy::Direction::kMinimize}}, 5);
    return st;
  }

  // Loads a strategy state, then asks and tells as a resumed search would.
  void resume(int s, const nlohmann::json& state) const {
    auto st = make(s);
    st->load_state(state);
    round(*st);
  }

  static void round(strategy::Strategy& st) {
    std::vector<strategy::Evaluation> told;
    for (auto& a : st.ask(3)) {
      strategy::Evaluation e;
      e.objectives = {static_cast<double>(a.str().size() % 7), static_cast<double>(a.str().size() % 5)};
      e.arch = std::move(a);
      told.push_back(std::move(e));
    }
    st.tell(told);
  }
};

Fixture& fixture() {
  static Fixture* f = new Fixture();  // kept for the life of the process
  return *f;
}

std::string seed(uint8_t mode, std::string_view body, int kind = -1) {
  std::string s(1, static_cast<char>(mode));
  if (kind >= 0) s += static_cast<char>(kind);
  return s + std::string(body);
}

// The valid files of kinds 0-4, as their writers make them.
std::vector<std::string> valid_files() {
  auto& f = fixture();
  const auto dir = fuzz::scratch_dir() + "/valid";
  std::filesystem::create_directories(dir);
  const std::string p[] = {dir + "/weights.pt", dir + "/checkpoint.pt", dir + "/supernet.ckpt", dir + "/search.pt",
                           dir + "/supernet.pt"};
  train::save_weights(*f.net, p[0]);
  train::detail::save_training_checkpoint(
      p[1], *f.net, *f.sgd,
      {{"fingerprint", "fuzz"}, {"settings", f.train_options.to_json()}, {"history", nlohmann::json::array()}});
  f.trainer->save(p[2]);
  f.search->save(p[3]);
  f.trainer->save_weights(p[4]);
  std::vector<std::string> out;
  for (const auto& path : p) out.push_back(read_file(path, "seed"));
  return out;
}

void write_corpus(const std::string& dir) {
  auto& f = fixture();
  std::filesystem::create_directories(dir);
  std::vector<std::string> seeds;
  const auto files = valid_files();
  for (int k = 0; k < 5; ++k) {
    seeds.push_back(seed(static_cast<uint8_t>(k), files[static_cast<size_t>(k)]));
    const auto payload = files[static_cast<size_t>(k)].substr(files[static_cast<size_t>(k)].find('\n') + 1);
    seeds.push_back(seed(6, payload, k));
  }
  for (int s = 0; s < 4; ++s) {
    auto st = f.make(s);
    for (int r = 0; r < 4; ++r) Fixture::round(*st);
    seeds.push_back(seed(5, st->state().dump(), s));
  }
  for (int k : {1, 2, 3}) {
    const auto a = hwnas::detail::archive_from_bytes(files[static_cast<size_t>(k)], kKinds[k], "seed", "");
    seeds.push_back(seed(7, *a.string(k == 1 ? "state" : "meta"), k));
  }
  for (size_t i = 0; i < seeds.size(); ++i)
    fuzz::write_file(dir + "/seed_" + std::to_string(i), reinterpret_cast<const uint8_t*>(seeds[i].data()),
                     seeds[i].size());
  std::printf("wrote %zu seeds to %s\n", seeds.size(), dir.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("HWNAS_FUZZ_WRITE_CORPUS")) {
    write_corpus(dir);
    std::exit(0);
  }
  (void)fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  auto& f = fixture();
  const int mode = data[0] % 8;
  hwnas::fuzz::expect_only_errors([&] {
    if (mode < 5) {
      f.load(mode, hwnas::fuzz::as_file(data + 1, size - 1, ".pt"));
      return;
    }
    const std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);
    if (mode == 5) {
      f.resume(data[1] % 4, parse_json(body, "fuzz strategy state"));
      return;
    }
    const int kind = mode == 6 ? data[1] % 5 : 1 + data[1] % 3;
    std::string file;
    if (mode == 6) {
      file = hwnas::detail::archive_header(kKinds[kind], body) + body;
    } else {
      hwnas::detail::TensorArchive a;
      a.put_string(kind == 1 ? "state" : "meta", body);
      file = hwnas::detail::archive_file_bytes(a, kKinds[kind]);
    }
    f.load(kind, hwnas::fuzz::as_file(reinterpret_cast<const uint8_t*>(file.data()), file.size(), ".pt"));
  });
  return 0;
}
