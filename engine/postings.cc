#include "engine/postings.h"

#include <utility>

namespace pamatch {

Postings::Postings(const Taxonomy& taxonomy)
    : skills_(taxonomy.skills().size()),
      training_(taxonomy.training().size()),
      languages_(taxonomy.languages().size()) {}

template <typename F>
void Postings::ForEachOf(const CompiledProfile& p, F&& f) {
  if (p.active) f(active_);
  for (CodeId id : p.skills) f(skills_[id]);
  for (const TrainingHeld& held : p.training) f(training_[held.code]);
  for (CodeId id : p.languages) f(languages_[id]);
  for (int level = v1::DBS_NONE; level <= p.dbs_level; ++level) {
    f(dbs_at_least_[level]);
  }
  for (int level = 0; level <= p.register_level; ++level) {
    f(level_at_least_[level]);
  }
  f(gender_[p.gender]);
  if (p.driving_licence) f(driving_licence_);
  if (p.has_car) f(has_car_);
  if (p.ok_with_pets) f(ok_with_pets_);
  if (p.non_smoker) f(non_smoker_);
  if (p.short_notice_cover) f(short_notice_cover_);
}

void Postings::Add(uint32_t doc, const CompiledProfile& p) {
  ForEachOf(p, [doc](Roaring& bitmap) { bitmap.add(doc); });
}

void Postings::Remove(uint32_t doc, const CompiledProfile& p) {
  ForEachOf(p, [doc](Roaring& bitmap) { bitmap.remove(doc); });
}

void Postings::Compact() {
  auto compact = [](Roaring& bitmap) {
    bitmap.runOptimize();
    bitmap.shrinkToFit();
  };
  compact(active_);
  for (auto* family : {&skills_, &training_, &languages_}) {
    for (Roaring& bitmap : *family) compact(bitmap);
  }
  for (Roaring& bitmap : dbs_at_least_) compact(bitmap);
  for (Roaring& bitmap : level_at_least_) compact(bitmap);
  for (Roaring& bitmap : gender_) compact(bitmap);
  for (Roaring* bitmap : {&driving_licence_, &has_car_, &ok_with_pets_,
                          &non_smoker_, &short_notice_cover_}) {
    compact(*bitmap);
  }
}

void Postings::swap(Postings& other) {
  using std::swap;
  swap(active_, other.active_);
  swap(skills_, other.skills_);
  swap(training_, other.training_);
  swap(languages_, other.languages_);
  swap(dbs_at_least_, other.dbs_at_least_);
  swap(level_at_least_, other.level_at_least_);
  swap(gender_, other.gender_);
  swap(driving_licence_, other.driving_licence_);
  swap(has_car_, other.has_car_);
  swap(ok_with_pets_, other.ok_with_pets_);
  swap(non_smoker_, other.non_smoker_);
  swap(short_notice_cover_, other.short_notice_cover_);
}

std::vector<const Roaring*> Postings::ForQuery(const CompiledQuery& q,
                                               bool any_status) const {
  // Every profile is at register level 0 or more.
  std::vector<const Roaring*> postings = {any_status ? &level_at_least_[0]
                                                     : &active_};
  for (CodeId id : q.must_have_skills) postings.push_back(&skills_[id]);
  for (CodeId id : q.required_training) postings.push_back(&training_[id]);
  for (CodeId id : q.required_languages) postings.push_back(&languages_[id]);
  if (q.min_dbs_level > v1::DBS_NONE) {
    postings.push_back(&dbs_at_least_[q.min_dbs_level]);
  }
  if (q.min_register_level > 0) {
    postings.push_back(&level_at_least_[q.min_register_level]);
  }
  if (q.required_gender) postings.push_back(&gender_[*q.required_gender]);
  if (q.requires_driver) postings.push_back(&driving_licence_);
  if (q.requires_car) postings.push_back(&has_car_);
  if (q.has_pets) postings.push_back(&ok_with_pets_);
  if (q.requires_non_smoker) postings.push_back(&non_smoker_);
  if (q.short_notice) postings.push_back(&short_notice_cover_);
  return postings;
}

}  // namespace pamatch
