#include "core/archive.h"
#include "core/describe.h"
#include "train/optimizer_state.h"
#include "hwnas/oneshot/supernet_training.h"

#include <chrono>
#include <filesystem>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <torch/torch.h>

#include "hwnas/core/json_number.h"
#include "hwnas/core/config.h"
#include "hwnas/core/option_fields.h"
#include "hwnas/core/error.h"
#include "hwnas/core/search_space.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/nn/supernet.h"
#include "oneshot/detail.h"

namespace hwnas::oneshot {
namespace {

const char* const kFormat = "hwnas-supernet-checkpoint";
constexpr int kVersion = 1;

// Progressive shrinking: which OFA choices are elastic in a phase (by name prefix).
bool elastic(const std::string& choice, int phase) {
  if (choice == "r" || choice.rfind("ks", 0) == 0) return true;
  if (choice.rfind("d", 0) == 0) return phase >= 2;
  return phase >= 3;  // e<i>
}

}  // namespace

void SupernetTrainOptions::validate() const { options::check(*this, "supernet training"); }

SupernetTrainOptions SupernetTrainOptions::from_json(const nlohmann::json& j) {
  return options::read<SupernetTrainOptions>(j, "supernet training");
}

nlohmann::json SupernetTrainOptions::to_json() const { return options::write(*this); }

nlohmann::json SupernetEpoch::to_json() const {
  return {{"epoch", epoch}, {"phase", phase}, {"loss", loss}, {"largest_accuracy", largest_accuracy},
          {"seconds", seconds}};
}

struct SupernetTrainer::Impl {
  std::shared_ptr<const SearchSpace> space;
  SupernetTrainOptions o;
  std::shared_ptr<nn::Supernet> net;
  std::unique_ptr<torch::optim::SGD> opt;
  Arch largest, smallest;
  int64_t epoch = 0;
  std::vector<SupernetEpoch> reports;

  // Greedily per choice, the option with the most (or fewest) MACs given the choices made
  // so far; options that make an invalid arch are passed over.
  Arch extreme(const std::vector<int>& ref, bool most) const {
    std::vector<int> genes = ref;
    const auto& choices = space->choices();
    for (size_t c = 0; c < choices.size(); ++c) {
      double best = most ? -1.0 : std::numeric_limits<double>::infinity();
      for (size_t k = 0; k < choices[c].options.size(); ++k) {
        auto g = genes;
        g[c] = static_cast<int>(k);
        Arch a;
        try {
          a = space->make(g);
        } catch (const InvalidArchError&) {
          continue;
        }
        const auto macs = static_cast<double>(cost::network_cost(space->layers(a)).macs);
        if (most ? macs > best : macs < best) {
          best = macs;
          genes[c] = static_cast<int>(k);
        }
      }
    }
    return space->make(genes);
  }

  int phase_of(int64_t e) const {
    if (o.progressive().empty()) return 0;
    return 1 + static_cast<int>(3 * e / std::max<int64_t>(o.epochs(), 1));
  }

  // `arch` with the choices not elastic in `phase` set to the largest arch's.
  Arch in_phase(const Arch& arch, int phase) const {
    if (phase == 0 || phase >= 3) return arch;
    auto genes = arch.genes();
    const auto& choices = space->choices();
    for (size_t c = 0; c < choices.size(); ++c)
      if (!elastic(choices[c].name, phase)) genes[c] = largest.genes()[c];
    return space->make(genes);
  }

  Arch draw(Rng& rng, int phase) const { return in_phase(space->sample(rng), phase); }
};

SupernetTrainer::SupernetTrainer(std::shared_ptr<const SearchSpace> space, SupernetTrainOptions options)
    : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  HWNAS_CHECK_T(ConfigError, space != nullptr, "SupernetTrainer needs a space");
  m.space = std::move(space);
  m.o = std::move(options);
  m.o.validate();
  HWNAS_CHECK_T(ConfigError, m.o.progressive().empty() || m.space->name() == "ofa", "Progressive shrinking (\"",
                m.o.progressive(), "\") follows the OFA space's kernel/depth/expand choices; the ", m.space->name(),
                " space has none: leave \"progressive\" empty");
  torch::manual_seed(m.o.seed());
  m.net = m.space->supernet(SupernetOptions().build(BuildOptions().seed(m.o.seed())));
  m.opt = std::make_unique<torch::optim::SGD>(
      m.net->parameters(),
      torch::optim::SGDOptions(m.o.lr()).momentum(m.o.momentum()).nesterov(m.o.momentum() > 0).weight_decay(m.o.weight_decay()));
  Rng rng(detail::mix_seed(m.o.seed(), 5));
  const auto ref = m.space->sample(rng).genes();
  m.largest = m.extreme(ref, true);
  m.smallest = m.extreme(ref, false);
}

SupernetTrainer::~SupernetTrainer() = default;
int64_t SupernetTrainer::epoch() const { return impl_->epoch; }
const std::vector<SupernetEpoch>& SupernetTrainer::reports() const { return impl_->reports; }
std::shared_ptr<nn::Supernet> SupernetTrainer::supernet() const { return impl_->net; }
Arch SupernetTrainer::largest() const { return impl_->largest; }
Arch SupernetTrainer::smallest() const { return impl_->smallest; }

std::vector<SupernetEpoch> SupernetTrainer::run(const data::Dataset& train,
                                                const std::function<void(const SupernetEpoch&)>& on_epoch,
                                                const std::atomic<bool>* stop) {
  auto& m = *impl_;
  const auto& o = m.o;
  HWNAS_CHECK_T(ConfigError, train.size() >= o.batch_size(), "Supernet training needs at least a batch (",
                o.batch_size(), ") of data, got ", train.size(), " samples");
  const int64_t per_epoch = o.steps_per_epoch() > 0 ? o.steps_per_epoch()
                                                    : (train.size() + o.batch_size() - 1) / o.batch_size();
  const int64_t total = per_epoch * o.epochs();
  std::vector<SupernetEpoch> out;
  while (m.epoch < o.epochs()) {
    const auto start = std::chrono::steady_clock::now();
    const int64_t e = m.epoch;
    Rng data_rng(detail::mix_seed(o.seed(), 1000 + static_cast<uint64_t>(e)));
    Rng arch_rng(detail::mix_seed(o.seed(), 2000000 + static_cast<uint64_t>(e)));
    const auto batches = data::batches(train, o.batch_size(), &data_rng);
    SupernetEpoch r;
    r.epoch = e + 1;
    r.phase = m.phase_of(e);
    m.net->train();
    for (int64_t s = 0; s < per_epoch; ++s) {
      const auto& b = batches[static_cast<size_t>(s) % batches.size()];
      const int64_t t = e * per_epoch + s;
      const double lr = 0.5 * o.lr() * (1 + std::cos(M_PI * static_cast<double>(t) / static_cast<double>(total)));
      for (auto& g : m.opt->param_groups()) static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
      for (auto& p : m.net->parameters()) p.mutable_grad().reset();
      std::vector<Arch> archs;
      if (o.rule() == "sandwich") {
        archs = {m.largest, m.in_phase(m.smallest, r.phase)};
        for (int64_t i = 0; i < o.random_subnets(); ++i) archs.push_back(m.draw(arch_rng, r.phase));
      } else {
        archs = {m.draw(arch_rng, r.phase)};
      }
      torch::Tensor teacher;
      double loss_sum = 0;
      for (size_t i = 0; i < archs.size(); ++i) {
        auto logits = m.net->forward(b.images, archs[i]);
        torch::Tensor loss;
        if (i > 0 && o.distill() && teacher.defined()) {
          loss = torch::kl_div(torch::log_softmax(logits, 1), torch::softmax(teacher, 1), at::Reduction::Mean) *
                 logits.size(1);  // per-sample sum over classes, like BigNAS' soft cross-entropy up to a constant
        } else {
          loss = torch::nn::functional::cross_entropy(logits, b.labels);
        }
        const double l = loss.item<double>();
        if (!std::isfinite(l))
          throw Error(fmt::format(
              "Supernet training diverged: the loss is {} at epoch {} step {} (arch {}). {} Lower lr (now {})", l, e + 1,
              s + 1, archs[i].str(),
              detail::last_checkpoint(o.checkpoint(), m.epoch),
              o.lr()));
        loss.backward();
        if (i == 0) {
          teacher = logits.detach();
          r.largest_accuracy += logits.argmax(1).eq(b.labels).to(torch::kFloat64).mean().item<double>() /
                                static_cast<double>(per_epoch);
        }
        loss_sum += l;
      }
      if (o.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(m.net->parameters(), o.grad_clip());
      m.opt->step();
      r.loss += loss_sum / static_cast<double>(archs.size()) / static_cast<double>(per_epoch);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++m.epoch;
    m.reports.push_back(r);
    out.push_back(r);
    if (!o.checkpoint().empty()) save(o.checkpoint());
    if (on_epoch) on_epoch(r);
    if (stop && stop->load()) break;
  }
  return out;
}

void SupernetTrainer::save_weights(const std::string& path) const {
  hwnas::detail::TensorArchive archive;
  archive.put_module("", *impl_->net);
  hwnas::detail::save_archive(archive, hwnas::detail::kSupernetWeightsKind, path);
}

void SupernetTrainer::save(const std::string& path) const {
  const auto& m = *impl_;
  hwnas::detail::TensorArchive archive;
  archive.put_module("supernet/", *m.net);
  train::detail::save_optimizer(*m.opt, archive, "optimizer/");
  nlohmann::json reports = nlohmann::json::array();
  for (const auto& r : m.reports) reports.push_back(r.to_json());
  detail::save_checkpoint(path, archive, detail::run_meta(*m.space, m.o.to_json(), m.epoch, reports),
                          kFormat, kVersion);
}

void SupernetTrainer::load(const std::string& path) {
  auto& m = *impl_;
  hwnas::detail::TensorArchive archive;
  const auto meta = detail::load_checkpoint(path, archive, kFormat, kVersion);
  detail::check_same_run(path, meta, m.space->name(), m.space->config(), m.o.to_json());
  try {
    // The metadata first (cheap to check), then the tensors.
    const auto epoch = json_integer<int64_t>(meta.at("epoch"), "\"epoch\"");
    std::vector<SupernetEpoch> reports;
    for (const auto& j : meta.at("reports")) {
      SupernetEpoch r;
      r.epoch = json_integer<int64_t>(j.at("epoch"), "a report's \"epoch\"");
      r.phase = json_integer<int>(j.at("phase"), "a report's \"phase\"");
      r.loss = j.at("loss").get<double>();
      r.largest_accuracy = j.at("largest_accuracy").get<double>();
      r.seconds = j.value("seconds", 0.0);  // kept beside the checkpoint (load_timings)
      reports.push_back(r);
    }
    if (epoch < 0 || static_cast<size_t>(epoch) != reports.size())
      throw detail::unusable_checkpoint(path, fmt::format("it says {} epochs were done but reports {}", epoch,
                                                          reports.size()));
    archive.load_module("supernet/", *m.net, path);
    train::detail::load_optimizer(*m.opt, archive, "optimizer/", path);
    m.epoch = epoch;
    m.reports = std::move(reports);
  } catch (const DataError&) {
    throw;
  } catch (const std::exception& e) {
    throw detail::unusable_checkpoint(path, hwnas::detail::describe(e));
  }
}

}  // namespace hwnas::oneshot
