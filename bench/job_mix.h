// The standard job mix (issue 20): generated jobs that look like the
// requirements employers post, shared by the MatchJobs benchmark
// (bench/match_jobs_bench.cc) and the load generator's job phases, so that
// both measure the same jobs. docs/PERFORMANCE.md describes it.
//
// Job `index` is a pure function of (scenario, seed, index, now, prefix),
// like a demo profile (demo/demo_data.h), integer arithmetic only:
//   - where: the location and local_authority of the demo profile
//     (scenario, seed ^ kJobSeedSalt, index), i.e. where people live,
//     population-weighted; employers are people too;
//   - max_distance_km: 5 (10%), 8 (15%), 10 (25%), 15 (25%), 20 (12%),
//     30 (8%), 50 (3%), unset (2%: the PA's own travel only);
//   - must_have_skills: 0/1/2/3 of them at 15/45/30/10%, drawn by how often
//     employers ask for each (kDemandedSkills in job_mix.cc: personal care
//     first); nice_to_have_skills 0-3 more;
//   - required_training: pa_induction 30%, first_aid 15%,
//     safeguarding_adults 10% (independently); preferred_training 0-2;
//   - min_dbs_level NONE/BASIC/STANDARD/ENHANCED/ENHANCED_BARRED_ADULTS at
//     15/10/20/45/10%; min_register_level 0/1/2/3/4 at 55/25/15/4/1%;
//   - requires_driver 20% (with requires_car 60% of those), has_pets 25%,
//     requires_non_smoker 30%, short_notice 5%; required_languages 2% (one
//     second language), preferred_languages 5%; required_gender 15% of the
//     jobs needing personal_care (female 85%), preferred_genders 10%,
//     preferred_age_bands 5%; interests 0-3;
//   - schedule: none 10%, weekday mornings 30% (07:00-10:00 on 3-5
//     weekdays), evenings 15% (17:00-21:00), weekends 10%, nights 5% (2-4
//     consecutive), mixed 30% (1-4 blocks of 1-6 h); min_schedule_coverage
//     0/0.5/0.8/1 at 50/30/10/10% when there is a schedule;
//   - max_hourly_rate_pence: 0 (no ceiling) 40%, else 1200-2000 in 50p steps;
//   - status OPEN, closes_on: none 60%, else now + 7..120 days; version 1.
// Every code is one of the default vocabulary's (taxonomy/north_east.json;
// taxonomy/great_britain.json has the same codes), so every job validates
// against both taxonomies in both scenarios.
//
// Pure functions; thread-safe.
#ifndef PA_MATCH_BENCH_JOB_MIX_H_
#define PA_MATCH_BENCH_JOB_MIX_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "demo/demo_data.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch::bench {

// Mixed into the seed of the job's location, so that job i does not sit
// exactly where demo profile i lives.
inline constexpr uint64_t kJobSeedSalt = 0x6a6f62730000000bULL;

// Job number `index` (>= 0) of the job mix `seed`; id = id_prefix + index
// zero-padded to 6 digits; dates relative to the UTC day of `now`.
v1::Job StandardJob(demo::DemoScenario scenario, uint64_t seed, int64_t index,
                    absl::Time now, std::string_view id_prefix);

// A MatchJobs request for the stored profile `profile_id`, judged on
// bench::kQueryAsOf, page size 20 (the search mix's).
v1::MatchJobsRequest StandardMatchJobs(std::string_view profile_id);

}  // namespace pamatch::bench

#endif  // PA_MATCH_BENCH_JOB_MIX_H_
