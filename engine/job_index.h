// The job index: the stored jobs, and which of them a PA may match found
// without testing every job (issue 20). A job is indexed by what it
// demands: where it is and how far it reaches (a grid of cells 0.2 degrees
// of latitude by 0.32 of longitude, about 22 x 21 km at 55 N), the flags
// and floors a PA must meet as the bits of the profile index's ScanRecord
// (licence, car, pets, non-smoker, short notice, DBS level, register
// level, gender), the codes a PA must hold as bit masks (must-have skills,
// required training, required languages), whether it is open, and its
// rate ceiling. A PA's candidates are the jobs of the cells within the
// PA's travel whose demands the PA meets bit for bit and whose reach may
// cover the PA; the caller judges each candidate exactly with the job's
// compiled query (job_matching.h), so the index only ever rules out jobs
// that cannot match.
//
// Thread-safety: none; any number of readers or one writer (the engine
// guards it with a SharedMutex, like the profile index).
#ifndef PA_MATCH_ENGINE_JOB_INDEX_H_
#define PA_MATCH_ENGINE_JOB_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "engine/dates.h"
#include "engine/index_columns.h"
#include "engine/job.h"
#include "engine/profile.h"
#include "engine/taxonomy.h"

namespace pamatch {

class JobIndex {
 public:
  explicit JobIndex(const Taxonomy& taxonomy);
  JobIndex(const JobIndex&) = delete;
  JobIndex& operator=(const JobIndex&) = delete;

  // Adds `job`, replacing the stored job with the same id if any.
  void Put(JobPtr job);
  // Removes the job `id`; false if there was none.
  bool Erase(absl::string_view id);

  // The job `id`, or nullptr.
  const CompiledJob* Find(absl::string_view id) const;
  JobPtr Share(absl::string_view id) const;
  size_t size() const { return slot_of_id_.size(); }
  // Jobs open on `day` (one pass over the jobs' fixed-size records).
  size_t OpenOn(DayNumber day) const;

  // Every stored job, in slot order.
  void ForEach(absl::FunctionRef<void(const JobPtr&)> visit) const;

  // Every job open on `day` whose demands `pa` may meet and whose reach
  // may cover the PA: a superset of the jobs `pa` matches on `day`, never
  // missing one. (Training expiry, DBS age, schedule coverage and the
  // exact distance are left to the caller.)
  void ForEachCandidate(const CompiledProfile& pa, DayNumber day,
                        absl::FunctionRef<void(const CompiledJob&)> visit) const;

  // The candidates of `a` and of `b` (either may be null) in one scan,
  // each job once, with whether it is a candidate of each: what a write
  // that turns PA `a` into `b` must judge (each job's data then comes
  // into the cache once, not once per side).
  void ForEachCandidateOfEither(
      const CompiledProfile* a, const CompiledProfile* b, DayNumber day,
      absl::FunctionRef<void(const CompiledJob&, bool of_a, bool of_b)> visit)
      const;

 private:
  // What the candidate scan reads of a job: 48 bytes, in its cell's array.
  // The first word of its required skills and training are kept here, so
  // that the scan tests them without reading the code columns (a cache
  // miss each, in slot order); a job requiring codes past those words, or
  // any language, is flagged and tested against the columns as well.
  struct Demand {
    float lat, lon, cos_lat;
    float reach_km;           // the request's distance limit, rounded up
    uint32_t bits;            // ScanRecord bits a PA must have
    DayNumber open_until;     // last open day (kNoDate when not OPEN)
    int32_t rate_ceiling;     // RateCeiling, clamped to int32
    uint32_t slot_and_flag;   // slot; top bit: kMoreCodes
    uint64_t skills0;         // word 0 of the required skills' row
    uint64_t training0;       // word 0 of the required training's row

    static constexpr uint32_t kMoreCodes = uint32_t{1} << 31;
    uint32_t slot() const { return slot_and_flag & ~kMoreCodes; }
    bool more_codes() const { return (slot_and_flag & kMoreCodes) != 0; }
  };
  // What a PA holds, in the scan's terms.
  struct Held {
    uint32_t bits;
    std::vector<uint64_t> skills, training, languages;
    uint64_t skills0, training0;
    int64_t rate;
    double lat, lon, cos_lat, travel;
  };
  Held HeldBy(const CompiledProfile& pa) const;
  // Whether `d` may match a PA holding `held` (its day aside).
  bool MayMatch(const Held& held, const Demand& d) const;
  // The cells within the travel of every PA of `held` (the box of each,
  // then the box around them), scanned in order; `candidate` is called
  // with each demand open on `day`, and says whether it is one; each
  // cell's candidates are then visited (prefetched a few ahead) with the
  // index `candidate` returned.
  // (A template, so that `candidate` is inlined in the scan's loop;
  // defined and instantiated in job_index.cc only.)
  template <typename Candidate, typename Visit>
  void Scan(const std::vector<const Held*>& held, DayNumber day,
            Candidate candidate, Visit visit) const;

  using CellKey = int32_t;
  struct Where {
    CellKey cell;
    uint32_t position;  // in the cell's array
  };
  static CellKey CellOf(double lat, double lon);
  Demand DemandOf(const CompiledJob& job, uint32_t slot) const;
  void Link(uint32_t slot);
  void Unlink(uint32_t slot);

  std::vector<JobPtr> jobs_;  // by slot; null when free
  std::vector<uint32_t> free_slots_;
  // Keys view the id inside the job they map to.
  absl::flat_hash_map<absl::string_view, uint32_t> slot_of_id_;
  std::vector<Where> where_;  // by slot
  absl::flat_hash_map<CellKey, std::vector<Demand>> cells_;
  // Required codes by slot.
  CodeBitColumn skills_, training_, languages_;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_JOB_INDEX_H_
