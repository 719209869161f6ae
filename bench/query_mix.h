// The standard query mix (docs/PERFORMANCE.md), shared by every benchmark
// and load test so that they all measure the same requests:
//   dense_city     Newcastle, 15 km, 2 must-have skills, a 20-slot schedule,
//                  enhanced DBS
//   broad          30 km, no must-have skills
//   rural          Northumberland (its policy applies), 40 km
//   narrow         rare skills plus a language
//   short_notice   short-notice cover for one 4-hour block
// Pure functions; thread-safe.
#ifndef PA_MATCH_BENCH_QUERY_MIX_H_
#define PA_MATCH_BENCH_QUERY_MIX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pamatch/v1/matcher.pb.h"

namespace pamatch::bench {

enum class QueryKind { kDenseCity, kBroad, kRural, kNarrow, kShortNotice };

// Every kind, in the order above.
const std::vector<QueryKind>& AllQueryKinds();

// "dense_city", "broad", "rural", "narrow", "short_notice".
std::string_view QueryKindName(QueryKind kind);

// The kind named `name`, or nullopt.
std::optional<QueryKind> ParseQueryKind(std::string_view name);

// The date every standard query is judged on ("2026-06-15"); generate data
// with the same reference date (pa-match-datagen --now 2026-06-15).
inline constexpr char kQueryAsOf[] = "2026-06-15";

// Request number `variant` of kind `kind`: the kind's base request with its
// location moved by up to ~3 km along a fixed sequence (variant 0 is the
// base location), so a run covers a spread of requests of each type rather
// than one request repeated. Page size 20.
v1::SearchRequest StandardQuery(QueryKind kind, uint64_t variant);

}  // namespace pamatch::bench

#endif  // PA_MATCH_BENCH_QUERY_MIX_H_
