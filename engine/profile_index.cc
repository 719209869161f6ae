#include "engine/profile_index.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace pamatch {

ProfileIndex::ProfileIndex(const Taxonomy& taxonomy)
    : taxonomy_(taxonomy), columns_(taxonomy), postings_(taxonomy) {}

void ProfileIndex::Link(uint32_t doc, const CompiledProfile& p) {
  postings_.Add(doc, p);
  grid_.Add(doc, p.lat, p.lon);
  CountLocalAuthority(p, +1);
}

void ProfileIndex::Unlink(uint32_t doc, const CompiledProfile& p) {
  postings_.Remove(doc, p);
  grid_.Remove(doc, p.lat, p.lon);
  CountLocalAuthority(p, -1);
}

void ProfileIndex::CountLocalAuthority(const CompiledProfile& p, int delta) {
  if (p.local_authority >= by_local_authority_.size()) {
    by_local_authority_.resize(p.local_authority + 1, 0);
  }
  by_local_authority_[p.local_authority] += delta;
}

void ProfileIndex::NoteChange(absl::string_view id) {
  // Relaxed is enough: the flag is set and cleared while the caller holds
  // the engine's lock on the index (shared or exclusive), and Put and Erase
  // run under its exclusive side, so that lock orders every access.
  if (!tracking_.load(std::memory_order_relaxed)) return;
  MutexLock lock(&changes_mu_);
  changed_.emplace(id);
}

void ProfileIndex::StartTrackingChanges() const {
  tracking_.store(true, std::memory_order_relaxed);
}

std::vector<std::string> ProfileIndex::TakeChanges(bool keep_tracking) const {
  MutexLock lock(&changes_mu_);
  if (!keep_tracking) tracking_.store(false, std::memory_order_relaxed);
  std::vector<std::string> ids(changed_.begin(), changed_.end());
  changed_.clear();
  return ids;
}

uint32_t ProfileIndex::NewDocument() {
  if (!free_docs_.empty()) {
    const uint32_t doc = free_docs_.back();
    free_docs_.pop_back();
    return doc;
  }
  docs_.emplace_back();
  return columns_.AddSlot();
}

void ProfileIndex::Put(ProfilePtr profile) {
  ++writes_;
  NoteChange(profile->id);
  uint32_t doc;
  auto existing = doc_of_id_.find(absl::string_view(profile->id));
  if (existing != doc_of_id_.end()) {
    doc = existing->second;
    Unlink(doc, *docs_[doc]);
    doc_of_id_.erase(existing);  // its key views the old profile's id
  } else {
    doc = NewDocument();
  }
  docs_[doc] = std::move(profile);
  columns_.Set(doc, *docs_[doc]);
  Link(doc, *docs_[doc]);
  doc_of_id_.emplace(absl::string_view(docs_[doc]->id), doc);
}

void ProfileIndex::BulkLoad(std::vector<ProfilePtr> profiles,
                            Profiles profiles_are) {
  // Grid-cell order, then descending travel (then input order): the
  // documents of a cell are consecutive, so a search reads them in order,
  // and it can stop at the first PA who does not travel far enough.
  const bool empty = docs_.empty();
  struct Key {
    GeoGrid::Cell cell;
    double travel;
    uint32_t input;
  };
  std::vector<Key> order;
  order.reserve(profiles.size());
  for (size_t i = 0; i < profiles.size(); ++i) {
    order.push_back({GeoGrid::CellOf(profiles[i]->lat, profiles[i]->lon),
                     profiles[i]->max_travel_km, static_cast<uint32_t>(i)});
  }
  std::sort(order.begin(), order.end(), [](const Key& a, const Key& b) {
    if (a.cell != b.cell) return a.cell < b.cell;
    if (a.travel != b.travel) return a.travel > b.travel;
    return a.input < b.input;
  });
  const size_t total = docs_.size() + profiles.size();
  docs_.reserve(total);
  columns_.Reserve(total);
  doc_of_id_.reserve(total);
  // Postings are appended in ascending document order (cheap for a
  // bitmap: always its last container), then compacted once at the end.
  std::vector<std::pair<GeoGrid::Cell, std::vector<uint32_t>>> cells;
  for (size_t i = 0; i < order.size(); ++i) {
    // The profiles are read in cell order, i.e. all over the heap: start
    // fetching a few ahead so their cache misses overlap.
    if (i + 8 < order.size()) {
      const char* ahead =
          reinterpret_cast<const char*>(profiles[order[i + 8].input].get());
      for (size_t line = 0; line < sizeof(CompiledProfile); line += 64) {
        __builtin_prefetch(ahead + line);
      }
    }
    const GeoGrid::Cell cell = order[i].cell;
    const uint32_t input = order[i].input;
    const uint32_t doc = NewDocument();
    // kCopy: a deep copy, so profiles (and their lists) are laid out in
    // document order too: scans in document order then read memory in order.
    docs_[doc] = profiles_are == Profiles::kCopy
                     ? std::make_shared<const CompiledProfile>(*profiles[input])
                     : std::move(profiles[input]);
    profiles[input].reset();
    const CompiledProfile& p = *docs_[doc];
    doc_of_id_.emplace(absl::string_view(p.id), doc);
    columns_.Set(doc, p);
    postings_.Add(doc, p);
    CountLocalAuthority(p, +1);
    if (cells.empty() || cells.back().first != cell) cells.push_back({cell, {}});
    cells.back().second.push_back(doc);
  }
  postings_.Compact();
  // Only a cell built here from nothing is one sorted range.
  for (const auto& [cell, docs] : cells) grid_.AddRange(cell, docs, empty);
}

bool ProfileIndex::Erase(absl::string_view id) {
  auto it = doc_of_id_.find(id);
  if (it == doc_of_id_.end()) return false;
  ++writes_;
  NoteChange(id);
  const uint32_t doc = it->second;
  doc_of_id_.erase(it);
  Unlink(doc, *docs_[doc]);
  docs_[doc].reset();
  columns_.Clear(doc);  // erasure means everywhere: no kActive, no data
  free_docs_.push_back(doc);
  return true;
}

const CompiledProfile* ProfileIndex::Find(absl::string_view id) const {
  auto it = doc_of_id_.find(id);
  return it == doc_of_id_.end() ? nullptr : docs_[it->second].get();
}

ProfileIndex::ProfilePtr ProfileIndex::Share(absl::string_view id) const {
  auto it = doc_of_id_.find(id);
  return it == doc_of_id_.end() ? nullptr : docs_[it->second];
}

std::vector<ProfileIndex::ProfilePtr> ProfileIndex::Snapshot() const {
  std::vector<ProfilePtr> all;
  all.reserve(size());
  // Copying a pointer counts a reference in its control block, which
  // make_shared put beside the profile, i.e. one cache miss per profile;
  // fetching a few ahead overlaps them (the caller holds a lock).
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < docs_.size(); ++i) {
    if (i + kAhead < docs_.size() && docs_[i + kAhead]) {
      __builtin_prefetch(
          reinterpret_cast<const char*>(docs_[i + kAhead].get()) - 16, 1);
    }
    if (docs_[i]) all.push_back(docs_[i]);
  }
  return all;
}

void ProfileIndex::Swap(ProfileIndex& other) {
  // Both must refer to one taxonomy, so that the column widths agree.
  if (&taxonomy_ != &other.taxonomy_) std::abort();
  using std::swap;
  swap(docs_, other.docs_);
  swap(free_docs_, other.free_docs_);
  swap(doc_of_id_, other.doc_of_id_);
  columns_.swap(other.columns_);
  postings_.swap(other.postings_);
  grid_.swap(other.grid_);
  swap(by_local_authority_, other.by_local_authority_);
}

void ProfileIndex::ForEach(
    absl::FunctionRef<void(const CompiledProfile&)> visit) const {
  for (const auto& doc : docs_) {
    if (doc) visit(*doc);
  }
}

}  // namespace pamatch
