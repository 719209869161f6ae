// The in-memory inverted index over compiled profiles.
//
// Documents: every stored profile gets a dense document id (uint32), reused
// after a delete, so memory does not grow under churn. Postings: one CRoaring
// bitmap per skill, training code (held, any expiry), language, gender,
// boolean check/flag, "DBS level at least L" and "register level at least
// L", plus ACTIVE status. Geography: a grid of cells 0.05 degrees of
// latitude by 0.08 of longitude (about 5.6 x 5.1 km at 55 N), each a bitmap.
//
// Columns: everything the filters and the score read is also kept per
// document in flat arrays (struct of arrays): an 8-byte scan record (travel
// and the boolean filters as bits); a 16-byte record of float location,
// DBS date and rate; a 64-byte record of location, travel,
// dates, levels and flags; the 336-slot week; skills, interests, languages
// and training held as bit masks. A search reads a few bytes per document
// it passes over and one or two cache lines per candidate, and never
// chases a pointer, except for the rare training filters, the id of a
// result and explanations.
//
// Search (the plan is in profile_index.cc, ForEachSetMatch): the grid
// cells that can hold a PA within reach, nearest first; each cell's
// documents are read from the columns in order (or, for a rare skill or
// language, only that posting's documents in the cell), stopping at the
// first PA whose travel is below the cell's nearest distance; those who
// miss a set filter are dropped without a branch, and a second small
// record (float location, DBS date, rate) rules most of the rest in or
// out. Survivors get the exact residual filters (distance, expiry dates,
// DBS age, schedule coverage, rates, exclusions), are counted, and are
// scored only while their score's upper bound could still enter the page
// being collected; matches certain to miss the page, and once a whole
// cell cannot enter it all its certain matches, are only counted. Taken
// together, that returns exactly what the reference scan returns, which
// tests/index_differential_test.cc checks on random data.
//
// Document order: BulkLoad (the rebuild at start) numbers documents by grid
// cell, then descending travel, so a cell's documents are consecutive in
// every column and the cell bitmaps are runs. Later upserts take free or
// new slots (the cells they touch are then read through their bitmaps, in
// full: unsorted_documents() counts them) until a relayout
// (engine/index_relayout.h) builds a fresh index in that order and Swaps
// it in. Profiles are immutable and shared (shared_ptr), so a relayout's
// copy of the index costs the columns and postings, not the profiles.
//
// Thread-safety: none inside, but for change tracking. The Engine guards an
// index with a std::shared_mutex: any number of readers (Search,
// ForEachCandidate, Find, Share, ForEach, Snapshot, unsorted_documents,
// active_size, profiles_by_local_authority) or
// one writer (Put, Erase, BulkLoad, Swap). StartTrackingChanges and
// TakeChanges are safe under either (they have their own mutex).
#ifndef PA_MATCH_ENGINE_PROFILE_INDEX_H_
#define PA_MATCH_ENGINE_PROFILE_INDEX_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "engine/profile.h"
#include "engine/query.h"
#include "engine/scoring.h"
#include "engine/taxonomy.h"
#include "roaring/roaring.hh"

namespace pamatch {

class ProfileIndex {
 public:
  explicit ProfileIndex(const Taxonomy& taxonomy);
  ProfileIndex(const ProfileIndex&) = delete;
  ProfileIndex& operator=(const ProfileIndex&) = delete;

  using ProfilePtr = std::shared_ptr<const CompiledProfile>;

  // Adds `profile`, replacing the stored profile with the same id if any.
  void Put(ProfilePtr profile);
  // What BulkLoad does with the profiles it is given.
  enum class Profiles {
    // Keeps a deep copy of each, allocated in document order, so a scan in
    // document order reads memory in order (the rebuild at start, whose
    // profiles were compiled all over the heap by several threads).
    kCopy,
    // Keeps the pointers (a relayout: the profiles are the live index's).
    kShare,
  };
  // Replaces the contents of an empty index with `profiles` (unique ids),
  // numbering documents in grid-cell order. Much faster than Put one by one.
  void BulkLoad(std::vector<ProfilePtr> profiles,
                Profiles profiles_are = Profiles::kCopy);
  // Removes the profile `id`; false if there was none.
  bool Erase(absl::string_view id);
  // Exchanges the contents of the two indexes (same taxonomy), change
  // tracking apart (each keeps its own).
  void Swap(ProfileIndex& other);

  // The profile `id`, or nullptr.
  const CompiledProfile* Find(absl::string_view id) const;
  // The same, shared (nullptr if absent).
  ProfilePtr Share(absl::string_view id) const;
  // Every stored profile, shared, in document order.
  std::vector<ProfilePtr> Snapshot() const;

  // Documents in cells that are no longer one travel-sorted range (a write
  // touched them since BulkLoad built them): what a search reads in full.
  size_t unsorted_documents() const { return unsorted_documents_; }
  // Calls to Put, and to Erase that removed a profile, since construction
  // (not swapped).
  uint64_t writes() const { return writes_; }

  // Change tracking, for a relayout: from StartTrackingChanges on, Put and
  // Erase note the id of every profile they change; TakeChanges returns
  // the ids noted since the last take (each once) and, unless
  // keep_tracking, stops tracking.
  void StartTrackingChanges();
  std::vector<std::string> TakeChanges(bool keep_tracking);
  size_t size() const { return doc_of_id_.size(); }
  // Profiles that are not PAUSED (ACTIVE, or status left unset).
  size_t active_size() const { return active_.cardinality(); }
  // Profiles by local authority code id (index); ids past the end have
  // none. Kept up to date by every write, so reading it costs nothing per
  // profile (GetStats and the metrics endpoint hold the index lock shared
  // while they read it).
  const std::vector<int64_t>& profiles_by_local_authority() const {
    return by_local_authority_;
  }
  // Document ids allocated, live or free: deleted ids are reused, so this
  // stays at the peak number of profiles rather than growing with churn.
  size_t document_slots() const { return docs_.size(); }

  // Every stored profile, in document order.
  void ForEach(absl::FunctionRef<void(const CompiledProfile&)> visit) const;

  // Every profile that passes `query`'s set filters (PassesSetFilters in
  // scoring.h), is within reach (distance and travel) and passes the DBS
  // age, rate and schedule coverage filters, as Search decides them: a
  // superset of the matches (exclusions and training expiry are left to
  // the caller), never missing one, in the plan's order.
  void ForEachCandidate(
      const CompiledQuery& query,
      absl::FunctionRef<void(const CompiledProfile&)> visit) const;

  // The index search: feeds `collector` exactly the matches the reference
  // scan would (SearchCollector::Consider on every profile), counting every
  // one and offering for the page those that may enter it.
  void Search(const CompiledQuery& query, SearchCollector& collector) const;

  // Approximate heap bytes of the postings and grid (not the profiles).
  size_t PostingBytes() const;

 private:
  using Cell = int64_t;
  // A grid cell's documents. BulkLoad lays a cell out as one range of
  // documents in descending travel; travel_sorted says it still is (any
  // later change to the cell clears it), so a search can stop reading the
  // cell at the first PA who cannot travel far enough.
  struct CellDocs {
    Roaring docs;
    bool travel_sorted = false;
  };
  static Cell CellOf(double lat, double lon);
  // Calls f(bitmap) for every posting `p` belongs to (not its cell): the
  // one place that knows which postings a profile has, for Put, Erase and
  // BulkLoad alike.
  template <typename F>
  void ForEachPostingOf(const CompiledProfile& p, F&& f);
  // Calls f(bitmap) for every posting bitmap of `self` (not the cells).
  template <typename Self, typename F>
  static void ForEachPosting(Self& self, F&& f);
  void AddPostings(uint32_t doc, const CompiledProfile& p, bool add);
  uint32_t NewDocument();

  // A grid cell that may hold PAs within reach of a query: every point of
  // it is at least near_km and at most far_km from the query (bounds with
  // a margin for the sphere).
  struct ReachableCell {
    const CellDocs* cell;
    double near_km, far_km;
    // For a travel_sorted cell, the documents [first, end) that travel at
    // least near_km (never empty: a cell with none is left out).
    uint32_t first, end;
  };
  // The reachable cells, nearest first, and bounds on cos(latitude) over
  // all of them and the query.
  struct CellsInReach {
    std::vector<ReachableCell> cells;
    double cos_low = 0, cos_high = 1;
  };
  CellsInReach ReachableCells(const CompiledQuery& query) const;
  // What the plan may do with a cell's matches that it is certain of
  // (within reach, DBS fresh, rate accepted, schedule covered): visit them all; count them
  // without a visit; or ask skip(doc, lower_km) for each.
  enum class CellVisit { kVisit, kCountCertain, kAskSkip };
  // The query plan shared by Search and ForEachCandidate: calls
  // on_cell(cell) before the documents of each cell it visits (a cell
  // {nullptr, 0, inf, ...} when it walks postings instead of cells), and
  // again before each further block of up to 256 of them while its answer
  // is not kCountCertain (the page may have filled meanwhile), and
  // on_doc(doc, record) for every document passing the set filters whose
  // travel may reach the query and that the plan could not rule out or
  // count. on_cell returns a CellVisit: kCountCertain only when no score
  // is wanted from the cell and no residual filter but distance, DBS age,
  // rate and schedule coverage applies; kAskSkip when a certain match needs no visit if
  // skip(doc, lower_km) says so, given a lower bound on its distance.
  // Matches counted without a visit are reported by on_counted(n). See
  // profile_index.cc.
  template <typename OnCell, typename Skip, typename OnDoc, typename OnCounted>
  void ForEachSetMatch(const CompiledQuery& query, OnCell&& on_cell,
                       Skip&& skip, OnDoc&& on_doc,
                       OnCounted&& on_counted) const;

  // Notes, for the cell of `p`, that `doc` joins (add) or leaves it; the
  // cell is then no longer a travel-sorted range.
  void ChangeCell(uint32_t doc, const CompiledProfile& p, bool add);
  // Adds `delta` to the count of p's local authority.
  void CountLocalAuthority(const CompiledProfile& p, int delta);
  void NoteChange(absl::string_view id);

  const Taxonomy& taxonomy_;
  std::vector<ProfilePtr> docs_;
  std::vector<uint32_t> free_docs_;
  // Keys view the id inside the profile they map to.
  absl::flat_hash_map<absl::string_view, uint32_t> doc_of_id_;

  // The fixed-size column record of a document (see "Columns" above).
  struct alignas(64) Hot {
    double lat, lon, cos_lat, max_travel_km;
    int64_t last_active_seconds;
    int32_t last_active_nanos;
    DayNumber dbs_issued_on;
    int32_t min_hourly_rate_pence;  // <= kMaxRatePence
    uint8_t register_level, gender, age_band, flags;
  };
  static constexpr uint8_t kHasLastActive = 1, kDbsUpdateService = 2;
  // Whether document `h` is within `limit` of the query and within its own
  // travel: decided from distance bounds where they agree, exactly
  // otherwise. distance_km is the exact haversine if it was computed, else
  // -1; lower_bound_sq bounds the squared distance from below.
  struct Reach {
    bool within;
    double distance_km;
    double lower_bound_sq;
  };
  static Reach DecideReach(const Hot& h, const CompiledQuery& query,
                           double limit);
  void SetColumns(uint32_t doc, const CompiledProfile& p);

  // The 8-byte record the plan reads for every document of a reachable
  // cell, before anything else: the PA's travel (rounded up to float, so
  // "travel < a lower bound of the distance" safely rules a PA out) and
  // the boolean set filters as bits (kBit* below).
  struct ScanRecord {
    float max_travel_km;
    uint32_t bits;
  };
  static constexpr int kBitActive = 0, kBitLicence = 1, kBitCar = 2,
                       kBitPets = 3, kBitNonSmoker = 4, kBitShortNotice = 5,
                       kBitDbsAtLeast = 5,     // + level 1..5: bits 6..10
                       kBitLevelAtLeast = 10,  // + level 1..4: bits 11..14
                       kBitGender = 15;        // + gender 0..4: bits 15..19
  static uint32_t ScanBits(const CompiledProfile& p);

  // The second record the plan reads, for documents that passed their
  // ScanRecord and codes: the location as floats (distance bounds with a
  // 0.1 km margin rule most PAs in or out without the exact haversine),
  // the DBS date as a key (fresh on as_of iff key >= the query's
  // dbs_fresh_since: INT32_MAX with the update service, INT32_MIN with no
  // date) and the rate.
  struct GeoRecord {
    float lat, lon;
    int32_t dbs_key;
    int32_t min_hourly_rate_pence;
  };

  std::vector<ScanRecord> scan_;
  std::vector<GeoRecord> geo_;
  std::vector<Hot> hot_;
  std::vector<WeekSlots> availability_;
  // Bit masks, words_*_ 64-bit words per document, bit i = code id i.
  size_t skill_words_, interest_words_, language_words_, training_words_;
  std::vector<uint64_t> skill_bits_, interest_bits_, language_bits_,
      training_bits_;  // training held, any expiry

  Roaring active_;
  std::vector<Roaring> skills_, training_, languages_;
  std::array<Roaring, 6> dbs_at_least_;    // by v1::DbsLevel (1..5 used)
  std::array<Roaring, 5> level_at_least_;  // by register level 0..4
  std::array<Roaring, 5> gender_;          // by v1::Gender (1..4 used)
  Roaring driving_licence_, has_car_, ok_with_pets_, non_smoker_,
      short_notice_cover_;
  absl::flat_hash_map<Cell, CellDocs> cells_;
  // The documents of the cells whose travel_sorted is false.
  size_t unsorted_documents_ = 0;
  std::vector<int64_t> by_local_authority_;  // by CodeId
  // (Swap exchanges every member from docs_ to here: add new ones there.)

  uint64_t writes_ = 0;
  // Change tracking (not swapped). Put and Erase read tracking_ without
  // the mutex, so an index that is not tracked pays one relaxed load.
  std::atomic<bool> tracking_{false};
  std::mutex changes_mu_;
  absl::flat_hash_set<std::string> changed_;  // GUARDED_BY(changes_mu_)
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_PROFILE_INDEX_H_
