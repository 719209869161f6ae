#include "bench/query_mix.h"

#include <cmath>

namespace pamatch::bench {
namespace {

void AddBlock(v1::SearchRequest* r, v1::DayOfWeek day, const char* start,
              const char* end) {
  v1::TimeInterval* interval = r->add_schedule();
  interval->set_day(day);
  interval->set_start(start);
  interval->set_end(end);
}

void At(v1::SearchRequest* r, double lat, double lon) {
  r->mutable_location()->set_lat(lat);
  r->mutable_location()->set_lon(lon);
}

v1::SearchRequest BaseQuery(QueryKind kind) {
  v1::SearchRequest r;
  r.set_as_of(kQueryAsOf);
  r.set_page_size(20);
  switch (kind) {
    case QueryKind::kDenseCity:
      At(&r, 54.9783, -1.6178);
      r.set_max_distance_km(15);
      r.add_must_have_skills("personal_care");
      r.add_must_have_skills("meal_preparation");
      r.set_min_dbs_level(v1::DBS_ENHANCED);
      // 20 slots: Monday to Friday 08:00-10:00.
      for (auto day : {v1::MONDAY, v1::TUESDAY, v1::WEDNESDAY, v1::THURSDAY,
                       v1::FRIDAY}) {
        AddBlock(&r, day, "08:00", "10:00");
      }
      r.add_nice_to_have_skills("shopping");
      r.add_interests("music");
      break;
    case QueryKind::kBroad:
      At(&r, 54.90, -1.50);
      r.set_max_distance_km(30);
      r.add_nice_to_have_skills("domestic_cleaning");
      break;
    case QueryKind::kRural:
      At(&r, 55.23, -2.0);
      r.set_local_authority("E06000057");
      r.set_max_distance_km(40);
      r.add_must_have_skills("personal_care");
      break;
    case QueryKind::kNarrow:
      At(&r, 54.9783, -1.6178);
      r.set_max_distance_km(25);
      r.add_must_have_skills("peg_feeding");
      r.add_required_languages("pl");
      break;
    case QueryKind::kShortNotice:
      At(&r, 54.88, -1.43);
      r.set_max_distance_km(20);
      r.set_short_notice(true);
      AddBlock(&r, v1::SATURDAY, "10:00", "14:00");
      r.set_min_schedule_coverage(1.0);
      break;
  }
  return r;
}

}  // namespace

const std::vector<QueryKind>& AllQueryKinds() {
  static const std::vector<QueryKind> kinds = {
      QueryKind::kDenseCity, QueryKind::kBroad, QueryKind::kRural,
      QueryKind::kNarrow, QueryKind::kShortNotice};
  return kinds;
}

std::string_view QueryKindName(QueryKind kind) {
  switch (kind) {
    case QueryKind::kDenseCity: return "dense_city";
    case QueryKind::kBroad: return "broad";
    case QueryKind::kRural: return "rural";
    case QueryKind::kNarrow: return "narrow";
    case QueryKind::kShortNotice: return "short_notice";
  }
  return "?";
}

std::optional<QueryKind> ParseQueryKind(std::string_view name) {
  for (QueryKind kind : AllQueryKinds()) {
    if (QueryKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

v1::SearchRequest StandardQuery(QueryKind kind, uint64_t variant) {
  v1::SearchRequest request = BaseQuery(kind);
  if (variant == 0) return request;
  // Rounded to 6 decimals so the request is exactly representable in JSON
  // and SQL (the PostgreSQL baseline reads the same requests).
  const double lat = request.location().lat() + 0.025 * std::sin(variant * 0.7);
  const double lon = request.location().lon() + 0.04 * std::cos(variant * 1.3);
  request.mutable_location()->set_lat(std::round(lat * 1e6) / 1e6);
  request.mutable_location()->set_lon(std::round(lon * 1e6) / 1e6);
  return request;
}

}  // namespace pamatch::bench
