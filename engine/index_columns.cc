#include "engine/index_columns.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/rules.h"

namespace pamatch {

uint64_t* CodeBitColumn::ClearedRow(uint32_t doc) {
  uint64_t* row = bits_.data() + doc * words_;
  std::fill(row, row + words_, 0);
  return row;
}

std::vector<uint64_t> CodeBitColumn::Mask(const std::vector<CodeId>& ids) const {
  std::vector<uint64_t> mask;
  if (!ids.empty()) {
    mask.assign(words_, 0);
    for (CodeId id : ids) SetBit(mask.data(), id);
  }
  return mask;
}

uint32_t ScanRecord::DemandedBits(const CompiledQuery& q) {
  uint32_t bits = 0;
  auto require = [&](bool wanted, int position) {
    if (wanted) bits |= uint32_t{1} << position;
  };
  require(q.requires_driver, kLicence);
  require(q.requires_car, kCar);
  require(q.has_pets, kPets);
  require(q.requires_non_smoker, kNonSmoker);
  require(q.short_notice, kShortNotice);
  require(q.min_dbs_level > v1::DBS_NONE, kDbsAtLeast + q.min_dbs_level);
  require(q.min_register_level > 0, kLevelAtLeast + q.min_register_level);
  if (q.required_gender) require(true, kGender + *q.required_gender);
  return bits;
}

uint32_t ScanRecord::BitsOf(const CompiledProfile& p) {
  auto bit = [](bool set, int position) {
    return set ? uint32_t{1} << position : 0u;
  };
  uint32_t bits = bit(true, kStored) | bit(p.active, kActive) |
                  bit(p.driving_licence, kLicence) |
                  bit(p.has_car, kCar) | bit(p.ok_with_pets, kPets) |
                  bit(p.non_smoker, kNonSmoker) |
                  bit(p.short_notice_cover, kShortNotice) |
                  bit(true, kGender + p.gender);
  for (int level = 1; level <= p.dbs_level; ++level) {
    bits |= bit(true, kDbsAtLeast + level);
  }
  for (int level = 1; level <= p.register_level; ++level) {
    bits |= bit(true, kLevelAtLeast + level);
  }
  return bits;
}

IndexColumns::IndexColumns(const Taxonomy& taxonomy)
    : skills_(taxonomy.skills().size()),
      interests_(taxonomy.interests().size()),
      languages_(taxonomy.languages().size()),
      training_(taxonomy.training().size()) {}

uint32_t IndexColumns::AddSlot() {
  const uint32_t doc = static_cast<uint32_t>(scan_.size());
  scan_.emplace_back();
  geo_.emplace_back();
  records_.emplace_back();
  availability_.emplace_back();
  skills_.AddRow();
  interests_.AddRow();
  languages_.AddRow();
  training_.AddRow();
  return doc;
}

void IndexColumns::Reserve(size_t docs) {
  scan_.reserve(docs);
  geo_.reserve(docs);
  records_.reserve(docs);
  availability_.reserve(docs);
  skills_.Reserve(docs);
  interests_.Reserve(docs);
  languages_.Reserve(docs);
  training_.Reserve(docs);
}

void IndexColumns::Set(uint32_t doc, const CompiledProfile& p) {
  float travel = static_cast<float>(p.max_travel_km);
  if (travel < p.max_travel_km) {
    travel = std::nextafter(travel, std::numeric_limits<float>::infinity());
  }
  const DayNumber dbs_key =
      DbsFreshnessKey(p.dbs_update_service, p.dbs_issued_on);
  scan_[doc] = {travel, ScanRecord::BitsOf(p)};
  geo_[doc] = {static_cast<float>(p.lat), static_cast<float>(p.lon), dbs_key,
               static_cast<int32_t>(p.min_hourly_rate_pence)};
  DocRecord& r = records_[doc];
  r.lat = p.lat;
  r.lon = p.lon;
  r.cos_lat = p.cos_lat;
  r.max_travel_km = p.max_travel_km;
  r.last_active_seconds = p.last_active_seconds;
  r.last_active_nanos = p.last_active_nanos;
  r.dbs_freshness_key = dbs_key;
  r.min_hourly_rate_pence = static_cast<int32_t>(p.min_hourly_rate_pence);
  r.register_level = static_cast<uint8_t>(p.register_level);
  r.gender = static_cast<uint8_t>(p.gender);
  r.age_band = static_cast<uint8_t>(p.age_band);
  r.has_last_active = p.has_last_active;
  availability_[doc] = p.availability;
  auto fill = [doc](CodeBitColumn& column, const std::vector<CodeId>& ids) {
    uint64_t* row = column.ClearedRow(doc);
    for (CodeId id : ids) CodeBitColumn::SetBit(row, id);
  };
  fill(skills_, p.skills);
  fill(interests_, p.interests);
  fill(languages_, p.languages);
  uint64_t* training = training_.ClearedRow(doc);
  for (const TrainingHeld& held : p.training) {
    CodeBitColumn::SetBit(training, held.code);
  }
}

void IndexColumns::Clear(uint32_t doc) {
  scan_[doc] = ScanRecord{};
  geo_[doc] = GeoRecord{};
  records_[doc] = DocRecord{};
  availability_[doc].reset();
  skills_.ClearedRow(doc);
  interests_.ClearedRow(doc);
  languages_.ClearedRow(doc);
  training_.ClearedRow(doc);
}

void IndexColumns::swap(IndexColumns& other) {
  scan_.swap(other.scan_);
  geo_.swap(other.geo_);
  records_.swap(other.records_);
  availability_.swap(other.availability_);
  skills_.swap(other.skills_);
  interests_.swap(other.interests_);
  languages_.swap(other.languages_);
  training_.swap(other.training_);
}

}  // namespace pamatch
