// Hard filters and the score of MATCHING.md for one (query, profile) pair,
// built from the rules of engine/rules.h, and the reference search: a plain
// scan that applies them to every profile. The scan is kept forever as the
// reference that faster index code is tested against, so it favours
// obviousness over speed.
//
// All functions are pure; a SearchCollector is used by one thread at a time.
#ifndef PA_MATCH_ENGINE_SCORING_H_
#define PA_MATCH_ENGINE_SCORING_H_

#include <cstdint>
#include <vector>

#include "engine/geo.h"
#include "engine/profile.h"
#include "engine/query.h"
#include "engine/rules.h"
#include "engine/taxonomy.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

// The hard filters an inverted index answers with set intersections: ACTIVE,
// must-have skills, required training held (any expiry), required
// languages, DBS level, register level, gender and the boolean flags.
bool PassesSetFilters(const CompiledQuery& query,
                      const CompiledProfile& profile);
// The same but the status: what a job asks of a PA (MATCHING.md "Jobs": a
// PA who paused their profile can still look for work).
bool PassesSetFiltersAnyStatus(const CompiledQuery& query,
                               const CompiledProfile& profile);

// The rest, judged per profile: distance, exclusions, training expiry, DBS
// freshness, schedule coverage and the hourly rate.
bool PassesResidualFilters(const CompiledQuery& query,
                           const CompiledProfile& profile, double distance_km);

// Each component's s_c in [0, 1] (only meaningful where query.applies[c]).
std::array<double, kComponentCount> ComponentValues(
    const CompiledQuery& query, const CompiledProfile& profile,
    double distance_km);

// Parts of the rules that read a query and a profile, for the reference
// scan and the index alike: whether every required training code is held
// unexpired on as_of; how many preferred ones are; how many preference
// lists the query gives (the denominator of `preferences`).
bool RequiredTrainingUnexpired(const CompiledQuery& query,
                               const CompiledProfile& profile);
int PreferredTrainingHeld(const CompiledQuery& query,
                          const CompiledProfile& profile);
int PreferenceListsGiven(const CompiledQuery& query);

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

// The score rounded to kScoreDecimals places (RoundDecimal).
double Score(const CompiledQuery& query,
             const std::array<double, kComponentCount>& values);

// The explanation of one match (MATCHING.md "explain"): every applied
// component's value and weight, matched and missing nice-to-have skills,
// shared interests, distance, slots and register level.
void ExplainMatch(const CompiledQuery& query, const Taxonomy& taxonomy,
                  const CompiledProfile& profile, double distance_km,
                  v1::Explanation* out);

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

  // Applies the hard filters to one profile and, if it passes, counts it
  // and offers it for the page (the reference scan).
  void Consider(const CompiledProfile& profile);

  // For callers that apply the hard filters themselves
  // (ProfileIndex::Search): count matches; offer a scored match for the
  // page; and whether the page is full, in which case a match scoring
  // below KeptScoreFloor() cannot enter it.
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
  const CompiledQuery& query_;
  const Taxonomy& taxonomy_;
  int64_t total_matches_ = 0;
  // The best page_size + 1 matches after the cursor, as a heap whose front
  // is the one that comes last.
  std::vector<Match> best_;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_SCORING_H_
