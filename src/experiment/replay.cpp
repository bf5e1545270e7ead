#include "hwnas/experiment/replay.h"

#include <algorithm>
#include <cmath>

#include "hwnas/core/stats.h"

namespace hwnas::experiment {

ReplaySummary summarize_replay(const ExperimentConfig& config, const std::vector<RunResult>& results) {
  const auto& objs = config.objectives();
  ReplaySummary s;
  s.strategy = config.strategy();
  s.first_seed = config.seed();
  s.evaluations = config.budget().evaluations();
  if (!objs.empty()) s.objective = objs[0].name, s.maximize = objs[0].direction == strategy::Direction::kMaximize;
  s.reference_point = config.reference_point();
  s.reference_given = !s.reference_point.empty();
  if (s.reference_point.empty() && objs.size() >= 2) {  // the nadir of every seed's front
    std::vector<Record> fronts;
    for (const auto& r : results) fronts.insert(fronts.end(), r.front.begin(), r.front.end());
    s.reference_point = nadir(fronts, objs);
  }
  const bool measure_volume = objs.size() >= 2 && !s.reference_point.empty() && !std::isnan(s.reference_point[0]);
  std::vector<double> best, volumes;
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    ReplaySummary::Run run;
    run.seed = s.first_seed + i;
    run.evaluations = r.evaluations;
    run.feasible = r.feasible_found;
    if (r.feasible_found && r.best) {
      run.best = r.best->arch.str();
      run.best_value = r.best->objectives[0];
      best.push_back(run.best_value);
      ++s.feasible_runs;
    }
    if (measure_volume) {
      std::vector<std::vector<double>> points;
      for (const auto& f : r.front)
        if (f.feasible()) points.push_back(f.objectives);
      run.has_hypervolume = true;
      run.hypervolume = hypervolume(points, s.reference_point, objs);
      volumes.push_back(run.hypervolume);
    }
    s.runs.push_back(run);
  }
  s.best_mean = stats::mean(best);
  s.best_std = stats::stddev(best);
  s.best_min = best.empty() ? std::nan("") : *std::min_element(best.begin(), best.end());
  s.best_max = best.empty() ? std::nan("") : *std::max_element(best.begin(), best.end());
  s.has_hypervolume = !volumes.empty();
  if (s.has_hypervolume) s.hypervolume_mean = stats::mean(volumes), s.hypervolume_std = stats::stddev(volumes);
  return s;
}

nlohmann::json ReplaySummary::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : runs) {
    nlohmann::json row = {{"seed", r.seed}, {"evaluations", r.evaluations}, {"feasible", r.feasible}};
    if (r.feasible) row["best"] = r.best, row["best_" + objective] = r.best_value;
    if (r.has_hypervolume) row["hypervolume"] = r.hypervolume;
    rows.push_back(row);
  }
  nlohmann::json j = {{"strategy", strategy}, {"seeds", runs.size()}, {"first_seed", first_seed},
                      {"evaluations", evaluations}, {"feasible_runs", feasible_runs}, {"runs", rows}};
  if (feasible_runs > 0) j["best_mean"] = best_mean, j["best_std"] = best_std;
  if (has_hypervolume) j["hypervolume_mean"] = hypervolume_mean, j["hypervolume_std"] = hypervolume_std,
                       j["reference_point"] = reference_point;
  return j;
}

}  // namespace hwnas::experiment
