// Differentiable search: memory of one search step and speed against PyTorch.
//
//   bench_oneshot memory                 peak resident memory of one step per method, each in
//                                        a fresh process (this binary re-run as memory-one)
//   bench_oneshot speed --threads T      one DARTS step (arch + weight) on the NB201 supernet
//                                        (C=16, N=5, batch 64, 32x32): hwnas and the plain
//                                        PyTorch peer benchmarks/peers/darts_step.py run by
//                                        /usr/bin/python3, in alternating rounds; medians, ratio
//   bench_oneshot e2e [--seeds 3] [--first-seed 0] [--epochs 10] [--randoms 3] [--train-steps 600] [--lambda 1]
//                     [--form proxyless|hinge|fbnet] [--aware-only 1] [--json F]
//                                        PC-DARTS on Fashion-MNIST with and without the latency
//                                        loss (this CPU's table), derived vs random archs
// Results and machine: docs/benchmarks.md.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hwnas/core/search_space.h"
#include "hwnas/core/stats.h"
#include "hwnas/core/threads.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/cost/profiler.h"
#include "hwnas/data/fashion_mnist.h"
#include "hwnas/data/synthetic.h"
#include "hwnas/estimate/short_training.h"
#include "hwnas/nn/network.h"
#include "hwnas/oneshot/differentiable.h"
#include "hwnas/search_spaces/registry.h"

using namespace hwnas;
using Clock = std::chrono::steady_clock;

namespace {

const nlohmann::json kNb201 = {{"channels", 16}, {"cells_per_stage", 5}};  // the NB201 search supernet
// ProxylessNAS' space at 128x128 (its mobile layout and candidates), 10 classes.
const nlohmann::json kProxyless = {{"preset", "proxyless"}, {"input_size", 128}, {"num_classes", 10}};

double resident_mib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

long minor_faults() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

double peak_mib() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

data::Dataset images(int64_t n, int64_t size) {
  return data::make_synthetic(data::SyntheticOptions().samples(n).channels(3).size(size).seed(1));
}

// One step in this process: prints {"method", "before_mib", "peak_mib", "step_mib"}.
int memory_one(const std::string& method, int64_t batch) {
  set_threads(1);
  double before = 0;
  if (method == "standalone") {  // one SGD step of the largest ProxylessNAS arch
    auto space = make_space("mobilenet", kProxyless);
    std::vector<int> genes;
    for (const auto& c : space->choices()) genes.push_back(static_cast<int>(std::find(c.options.begin(), c.options.end(), "k7_e6") - c.options.begin()));
    auto net = space->build(space->make(genes));
    torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
    auto x = torch::randn({batch, 3, 128, 128});
    auto y = torch::randint(0, 10, {batch});
    before = resident_mib();
    net->train();
    sgd.zero_grad();
    torch::nn::functional::cross_entropy(net->forward(x), y).backward();
    sgd.step();
  } else {
    const bool mobile = method.rfind("proxyless", 0) == 0 || method == "darts-mobile";
    std::shared_ptr<SearchSpace> space(make_space(mobile ? "mobilenet" : "nb201", mobile ? kProxyless : kNb201));
    const std::string name = method == "darts-mobile" ? "darts" : method;
    oneshot::DifferentiableSearch search(
        space, oneshot::DifferentiableOptions().method(name).epochs(1).steps_per_epoch(1).batch_size(batch));
    const auto data = images(2 * batch, mobile ? 128 : 32);
    before = resident_mib();
    search.run(data);
  }
  std::cout << nlohmann::json{{"method", method}, {"batch", batch}, {"before_mib", before}, {"peak_mib", peak_mib()},
                              {"step_mib", peak_mib() - before}}.dump()
            << std::endl;
  return 0;
}

nlohmann::json run_child(const std::string& self, const std::string& args) {
  std::FILE* p = ::popen((self + " " + args).c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + self);
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  if (::pclose(p) != 0) throw std::runtime_error("'" + args + "' failed: " + out);
  return nlohmann::json::parse(out.substr(out.rfind('{')));
}

int memory(const std::string& self) {
  std::cout << "peak resident memory of one search step (1 thread), MiB above the set-up:\n";
  nlohmann::json all;
  for (const auto& [method, batch] : std::vector<std::pair<std::string, int>>{
           {"darts", 64}, {"pcdarts", 64}, {"gdas", 64}, {"darts-mobile", 16}, {"proxyless", 16}, {"standalone", 16}}) {
    auto r = run_child(self, fmt::format("memory-one {} {}", method, batch));
    all[method] = r;
    std::cout << fmt::format("  {:13s} batch {:3d}: step {:8.1f} MiB (process peak {:8.1f})\n", method, batch,
                             r["step_mib"].get<double>(), r["peak_mib"].get<double>());
  }
  const auto step = [&](const char* m) { return all[m]["step_mib"].get<double>(); };
  std::cout << fmt::format("PC-DARTS (K=4) / DARTS on nb201: {:.2f}\n", step("pcdarts") / step("darts"));
  std::cout << fmt::format("ProxylessNAS / largest standalone model (training step): {:.2f}\n",
                           step("proxyless") / step("standalone"));
  std::cout << fmt::format("DARTS mixture on the same mobile space / largest standalone: {:.2f}\n",
                           step("darts-mobile") / step("standalone"));
  std::cout << all.dump() << "\n";
  return 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Rounds alternate hwnas and the peer, so that both see the same machine state; the
// medians are compared. Both run with the same glibc allocator setting (hwnas'
// tune_allocator; the peer through glibc's MALLOC_*_THRESHOLD_ variables) and the same
// threads: T intra-op threads, OpenBLAS on one (hwnas' set_threads; the peer through
// OPENBLAS_NUM_THREADS, else OpenBLAS starts a thread per core under each torch thread).
int speed(int threads, int steps, int rounds, const std::string& peer) {
  tune_allocator();
  set_threads(threads);
  std::shared_ptr<SearchSpace> space(make_space("nb201", kNb201));
  const auto data = images(2 * 64 * 4, 32);
  auto options = oneshot::DifferentiableOptions().method("darts").batch_size(64).train_portion(0.5);
  std::vector<double> ours, theirs, our_faults, their_faults;
  std::string version;
  for (int r = 0; r < rounds; ++r) {
    // Two epochs of `steps` steps on one supernet: the first warms up (allocations, caches),
    // the second is timed (its report's seconds), as the peer times warm steps.
    oneshot::DifferentiableSearch search(space, oneshot::DifferentiableOptions(options).epochs(2).steps_per_epoch(steps));
    long faults = 0;  // after the run: the faults of the second (timed) epoch
    search.run(data, [&](const oneshot::EpochReport&) { faults = minor_faults() - faults; });
    ours.push_back(search.reports().back().seconds / steps);
    our_faults.push_back(static_cast<double>(faults) / static_cast<double>(steps));
    const auto j = run_child("OPENBLAS_NUM_THREADS=1 MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1099511627776 "
                             "/usr/bin/python3",
                             fmt::format("{} --threads {} --steps {}", peer, threads, steps));
    theirs.push_back(j["seconds_per_step"].get<double>());
    their_faults.push_back(j["page_faults_per_step"].get<double>());
    version = j["torch"].get<std::string>();
    std::cout << fmt::format("round {}: hwnas {:.3f} s ({:.0f} page faults/step), PyTorch {:.3f} s ({:.0f})\n", r + 1,
                             ours.back(), our_faults.back(), theirs.back(), their_faults.back());
  }
  const double a = median(ours), b = median(theirs);
  std::cout << fmt::format("DARTS step, nb201 supernet C=16 N=5, batch 64, 32x32, {} thread(s), median of {} rounds "
                           "of {} steps:\n  hwnas {:.3f} s, PyTorch {} (Python) {:.3f} s, ratio PyTorch / hwnas {:.2f}\n",
                           threads, rounds, steps, a, version, b, b / a);
  std::cout << nlohmann::json{{"threads", threads}, {"steps", steps}, {"rounds", rounds}, {"hwnas_s", ours},
                              {"pytorch_s", theirs}, {"hwnas_faults_per_step", our_faults},
                              {"pytorch_faults_per_step", their_faults}, {"hwnas_median_s", a}, {"pytorch_median_s", b}, {"ratio", b / a}}.dump()
            << "\n";
  return 0;
}

// End to end on Fashion-MNIST: per seed, a PC-DARTS search without and with a latency
// loss (--form; table profiled on this CPU), then the two derived archs and
// `randoms` random archs of the space trained with the same short budget and tested on the
// 10,000 test images.
struct E2eArgs {
  int seeds = 3, first_seed = 0, epochs = 10, randoms = 3;
  int64_t train_steps = 600;
  double target_fraction = 0.3, lambda = 1.0;
  std::string form = "proxyless";  // the hardware loss of the latency-aware search
  bool aware_only = false;
  std::string out;
};

int e2e(const E2eArgs& a) {
  const int seeds = a.seeds, epochs = a.epochs, randoms = a.randoms;
  const int64_t train_steps = a.train_steps;
  const double target_fraction = a.target_fraction, lambda = a.lambda;
  const bool aware_only = a.aware_only;
  const std::string& out = a.out;
  tune_allocator();
  set_threads(2);
  const nlohmann::json config = {{"channels", 8}, {"cells_per_stage", 2}, {"input_channels", 1}, {"input_size", 28}};
  std::shared_ptr<SearchSpace> space(make_space("nb201", config));
  const auto t_profile = Clock::now();
  auto table = std::make_shared<cost::LatencyTable>(cost::profile_space(
      *space, cost::ProfileOptions().threads(1).timing(cost::TimingOptions().min_seconds(0.05))));
  auto latency = std::make_shared<cost::LatencyModel>(table, space);
  const double profile_s = std::chrono::duration<double>(Clock::now() - t_profile).count();
  const auto search_data = data::load_fashion_mnist(data::FashionMnistOptions().limit(10000));
  const auto test = data::load_fashion_mnist(data::FashionMnistOptions().train(false));
  // Target: a third of the way from the fastest arch to the one with every edge conv 3x3.
  const auto largest = space->parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|");
  oneshot::DifferentiableSearch probe(space, oneshot::DifferentiableOptions().method("pcdarts"), latency);
  const double target = probe.fastest_latency_ms() + target_fraction * (latency->predict(largest) - probe.fastest_latency_ms());
  std::cout << fmt::format("latency table of {} layers profiled in {:.1f} s; fastest arch {:.4f} ms, all-conv3x3 {:.4f} ms, "
                           "target {:.4f} ms\n", table->size(), profile_s, probe.fastest_latency_ms(),
                           latency->predict(largest), target)
            << std::flush;
  nlohmann::json result = {{"space", config}, {"epochs", epochs}, {"train_steps", train_steps}, {"target_ms", target},
                           {"lambda", lambda}, {"form", a.form}, {"seeds", nlohmann::json::array()}};
  for (int seed = a.first_seed; seed < a.first_seed + seeds; ++seed) {
    nlohmann::json row = {{"seed", seed}};
    std::vector<Arch> archs;
    for (const bool aware : {false, true}) {
      if (aware_only && !aware) continue;
      auto o = oneshot::DifferentiableOptions().method("pcdarts").epochs(epochs).batch_size(64).seed(static_cast<uint64_t>(seed));
      if (aware) o.hardware(oneshot::HardwareLossOptions().form(a.form).device("cpu").target_ms(target).lambda(lambda));
      oneshot::DifferentiableSearch search(space, o, latency);
      const auto t0 = Clock::now();
      search.run(search_data, [&](const oneshot::EpochReport& r) {
        std::cout << fmt::format("  epoch {}: {:.1f} s, weights {:.3f} / arch {:.3f} accuracy, derived {}", r.epoch,
                                 r.seconds, r.train_accuracy, r.arch_accuracy, r.derived.str())
                  << std::endl;
      });
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      const auto arch = search.select({});
      archs.push_back(arch);
      row[aware ? "aware" : "plain"] = {{"arch", arch.str()}, {"search_s", secs}, {"latency_ms", latency->predict(arch)},
                                         {"expected_latency_ms", search.expected_latency_ms()}};
      std::cout << fmt::format("seed {} {}: {} in {:.0f} s, {:.4f} ms", seed, aware ? "latency-aware" : "plain",
                               arch.str(), secs, latency->predict(arch))
                << std::endl;
    }
    Rng rng(1000 + static_cast<uint64_t>(seed));
    for (int i = 0; i < randoms; ++i) archs.push_back(space->sample(rng));
    estimate::ShortTrainingEvaluator trainer(
        space, data::load_fashion_mnist(data::FashionMnistOptions().limit(10000)), test,
        estimate::ShortTrainingOptions()
            .train(train::TrainOptions().steps(train_steps).batch_size(64).lr(0.05).cosine(true).seed(static_cast<uint64_t>(seed)))
            .seed(static_cast<uint64_t>(seed)));
    const auto m = trainer.evaluate(archs);
    const size_t searched = aware_only ? 1 : 2;
    if (!aware_only) row["plain"]["test_accuracy"] = m[0].at("val_accuracy");
    row["aware"]["test_accuracy"] = m[searched - 1].at("val_accuracy");
    row["random"] = nlohmann::json::array();
    for (size_t i = searched; i < archs.size(); ++i)
      row["random"].push_back({{"arch", archs[i].str()}, {"latency_ms", latency->predict(archs[i])},
                               {"test_accuracy", m[i].at("val_accuracy")}});
    std::cout << fmt::format("seed {}: test accuracy{} latency-aware {:.4f}, random", seed,
                             aware_only ? "" : fmt::format(" plain {:.4f},", m[0].at("val_accuracy")),
                             m[searched - 1].at("val_accuracy"));
    for (size_t i = searched; i < archs.size(); ++i) std::cout << fmt::format(" {:.4f}", m[i].at("val_accuracy"));
    std::cout << std::endl;
    result["seeds"].push_back(row);
    if (!out.empty()) std::ofstream(out) << result.dump(2) << "\n";
  }
  // Summary: mean and sample standard deviation over seeds (random: over all random archs).
  auto stat = [](const std::vector<double>& v) { return std::pair{stats::mean(v), stats::stddev(v)}; };
  std::vector<double> plain_acc, aware_acc, random_acc, plain_lat, aware_lat, random_lat, search_s;
  for (const auto& r : result["seeds"]) {
    if (!aware_only) {
      plain_acc.push_back(r["plain"]["test_accuracy"]);
      plain_lat.push_back(r["plain"]["latency_ms"]);
      search_s.push_back(r["plain"]["search_s"]);
    }
    aware_acc.push_back(r["aware"]["test_accuracy"]);
    aware_lat.push_back(r["aware"]["latency_ms"]);
    search_s.push_back(r["aware"]["search_s"]);
    for (const auto& x : r["random"]) {
      random_acc.push_back(x["test_accuracy"]);
      random_lat.push_back(x["latency_ms"]);
    }
  }
  auto line = [&](const char* what, const std::vector<double>& acc, const std::vector<double>& lat) {
    const auto [am, as] = stat(acc);
    const auto [lm, ls] = stat(lat);
    std::cout << fmt::format("  {:14s} test accuracy {:.4f} +- {:.4f}   table latency {:.4f} +- {:.4f} ms   (n={})\n",
                             what, am, as, lm, ls, acc.size());
  };
  std::cout << "summary (mean +- sample std):\n";
  if (!aware_only) line("PC-DARTS", plain_acc, plain_lat);
  line("latency-aware", aware_acc, aware_lat);
  line("random", random_acc, random_lat);
  const auto [sm, ss] = stat(search_s);
  std::cout << fmt::format("  search wall time {:.0f} +- {:.0f} s per search (max {:.0f} s)\n", sm, ss,
                           *std::max_element(search_s.begin(), search_s.end()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "memory-one" && argc == 4) return memory_one(argv[2], std::stoi(argv[3]));
    if (mode == "memory") return memory(argv[0]);
    if (mode == "e2e") {
      E2eArgs a;
      for (int i = 2; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--seeds") a.seeds = std::stoi(argv[i + 1]);
        else if (k == "--first-seed") a.first_seed = std::stoi(argv[i + 1]);
        else if (k == "--epochs") a.epochs = std::stoi(argv[i + 1]);
        else if (k == "--randoms") a.randoms = std::stoi(argv[i + 1]);
        else if (k == "--train-steps") a.train_steps = std::stoll(argv[i + 1]);
        else if (k == "--target-fraction") a.target_fraction = std::stod(argv[i + 1]);
        else if (k == "--lambda") a.lambda = std::stod(argv[i + 1]);
        else if (k == "--form") a.form = argv[i + 1];
        else if (k == "--aware-only") a.aware_only = std::string(argv[i + 1]) == "1";
        else if (k == "--json") a.out = argv[i + 1];
      }
      return e2e(a);
    }
    if (mode == "speed") {
      int threads = 1, steps = 5, rounds = 3;
      std::string peer = std::string(HWNAS_SOURCE_DIR) + "/benchmarks/peers/darts_step.py";
      for (int i = 2; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--threads") threads = std::stoi(argv[i + 1]);
        else if (k == "--steps") steps = std::stoi(argv[i + 1]);
        else if (k == "--rounds") rounds = std::stoi(argv[i + 1]);
        else if (k == "--peer") peer = argv[i + 1];
      }
      return speed(threads, steps, rounds, peer);
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_oneshot: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: bench_oneshot memory | speed [--threads T] [--steps N] [--rounds R] [--peer darts_step.py]"
               " | e2e [--seeds S] [--first-seed F] [--epochs E] [--randoms R] [--train-steps N] [--target-fraction F] [--lambda L]"
               " [--form proxyless|hinge|fbnet] [--aware-only 1] [--json FILE]\n";
  return 2;
}
