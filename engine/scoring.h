// Hard filters and the score of MATCHING.md for one (query, profile) pair,
// and the reference search: a plain scan that applies them to every
// profile. The scan is kept forever as the reference that faster index code
// is tested against, so it favours obviousness over speed.
//
// All functions are pure; a SearchCollector is used by one thread at a time.
#ifndef PA_MATCH_ENGINE_SCORING_H_
#define PA_MATCH_ENGINE_SCORING_H_

#include <cstdint>
#include <vector>

#include "engine/profile.h"
#include "engine/query.h"
#include "engine/taxonomy.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

// Mean Earth radius used by the contract, km.
inline constexpr double kEarthRadiusKm = 6371.0088;

// Haversine great-circle distance in km between two WGS84 points (degrees).
double HaversineKm(double lat1, double lon1, double lat2, double lon2);
// The same, bit for bit, given cos(lat) of both points precomputed
// (CosLat), which saves two of the five transcendental calls per pair.
double HaversineKm(double lat1, double lon1, double cos_lat1, double lat2,
                   double lon2, double cos_lat2);
double CosLat(double lat);

// Whether `profile` holds training `code` unexpired on `as_of` (no expiry,
// or expires_on >= as_of).
bool TrainingUnexpired(const CompiledProfile& profile, CodeId code,
                       DayNumber as_of);

// Whether `profile`, at `distance_km` from the query's location, passes
// every hard filter of `query`: the set filters and the residual ones.
bool PassesHardFilters(const CompiledQuery& query,
                       const CompiledProfile& profile, double distance_km);

// The hard filters an inverted index answers with set intersections: ACTIVE,
// must-have skills, required training held (any expiry), required
// languages, DBS level, register level, gender and the boolean flags.
bool PassesSetFilters(const CompiledQuery& query,
                      const CompiledProfile& profile);

// The rest, judged per profile: distance, exclusions, training expiry, DBS
// freshness, schedule coverage and the hourly rate.
bool PassesResidualFilters(const CompiledQuery& query,
                           const CompiledProfile& profile, double distance_km);

// Each component's s_c in [0, 1] (only meaningful where query.applies[c]).
std::array<double, kComponentCount> ComponentValues(
    const CompiledQuery& query, const CompiledProfile& profile,
    double distance_km);

// The weighted mean of the applied components, before rounding (0 when
// their weights sum to 0). Monotone in each value: an upper bound on each
// value gives an upper bound on the score.
double WeightedScore(const CompiledQuery& query,
                     const std::array<double, kComponentCount>& values);

// `x` rounded to `decimals` (0..9) decimal places, judged on x's exact
// binary value, an exact half going to the even neighbour: the number
// Python's round(x, decimals), printf("%.*f") and decimal arithmetic give.
// (std::round(x * 1e6) / 1e6 differs twice: the product is rounded first,
// so 5e-7, just under a half, becomes one; and a true half, 0.0078125 =
// 2^-7, goes away from zero.) Finite x with |x| * 10^decimals < 2^52.
double RoundDecimal(double x, int decimals);

// The score rounded to 6 decimal places (RoundDecimal).
double Score(const CompiledQuery& query,
             const std::array<double, kComponentCount>& values);

// Whole days from `last_active` (seconds, nanos) to 00:00 UTC of as_of,
// floored, never negative.
int64_t DaysSinceActive(int64_t as_of_start_seconds, int64_t seconds,
                        int32_t nanos);

// The recency component for `days` since last active: 0.5^(days/30),
// bit-identical to std::pow(0.5, days / 30.0), from a table when small.
double RecencyValue(int64_t days);

// A profile that passed the hard filters.
struct Match {
  double score;        // rounded to 6 dp
  double distance_km;  // full precision
  const CompiledProfile* profile;
};

// The total order of results: score desc, distance asc, id asc.
bool ComesBefore(const Match& a, const Match& b);

// Collects matches from a scan and produces the requested page. Pointers
// passed to Consider must stay valid until Finish returns.
class SearchCollector {
 public:
  SearchCollector(const CompiledQuery& query, const Taxonomy& taxonomy);

  // Applies the hard filters to one profile and, if it passes, scores it.
  void Consider(const CompiledProfile& profile);
  // The same for a profile already known to pass PassesSetFilters (an index
  // candidate): only the residual filters are applied.
  void ConsiderCandidate(const CompiledProfile& profile);

  // The parts of ConsiderCandidate, for callers that apply the hard filters
  // themselves (ProfileIndex::Search): count one match; offer a scored
  // match for the page; and whether the page is full, in which case a match
  // scoring below KeptScoreFloor() cannot enter it.
  void CountMatch() { ++total_matches_; }
  void CountMatches(int64_t n) { total_matches_ += n; }
  void Offer(const Match& match);
  bool PageFull() const {
    return best_.size() == static_cast<size_t>(query_.page_size) + 1;
  }
  double KeptScoreFloor() const { return best_.front().score; }

  // The page after the query's cursor, total_matches and next_page_token.
  v1::SearchResponse Finish();

 private:
  void FillExplanation(const Match& match, v1::Explanation* out) const;

  const CompiledQuery& query_;
  const Taxonomy& taxonomy_;
  int64_t total_matches_ = 0;
  // The best page_size + 1 matches after the cursor, as a heap whose front
  // is the one that comes last.
  std::vector<Match> best_;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_SCORING_H_
