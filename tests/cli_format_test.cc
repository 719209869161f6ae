// Unit tests of the pa-match CLI's output: the exact human-readable tables
// (search with and without explain, policies, stats), JSON printing options,
// and the import bookkeeping (progress line, summary, rejection mapping).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/format.h"
#include "cli/import_tally.h"
#include "google/protobuf/text_format.h"

namespace pamatch::cli {
namespace {

template <typename Message>
Message FromText(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

const char kSearchResponse[] = R"pb(
  total_matches: 57
  applied_policy: "E08000021"
  as_of: "2025-03-01"
  next_page_token: "CgRwYS0y"
  results {
    id: "pa-newcastle-17"
    score: 0.912345
    distance_km: 1.2345
    register_level: 3
    explanation {
      components { name: "skills" value: 0.5 weight: 0.3 }
      components { name: "distance" value: 0.899 weight: 0.15 }
      components { name: "trust" value: 0.75 weight: 0.05 }
      matched_skills: "cooking"
      missing_skills: [ "gardening", "shopping" ]
      distance_km: 1.235
      covered_slots: 10
      needed_slots: 12
      register_level: 3
    }
  }
  results {
    id: "pa-2"
    score: 0.5
    distance_km: 12.0
    register_level: 0
    explanation {
      components { name: "interests" value: 0 weight: 0.1 }
      components { name: "preferences" value: 1 weight: 0.125 }
    }
  }
)pb";

TEST(SearchFormat, Table) {
  auto response = FromText<pamatch::v1::SearchResponse>(kSearchResponse);
  EXPECT_EQ(FormatSearchResponse(response, /*explain=*/false),
            "57 matches (policy: E08000021) as of 2025-03-01\n"
            "rank  id                  score  distance_km  level\n"
            "   1  pa-newcastle-17  0.912345         1.23      3\n"
            "   2  pa-2             0.500000        12.00      0\n"
            "next page token: CgRwYS0y\n");
}

TEST(SearchFormat, Explain) {
  auto response = FromText<pamatch::v1::SearchResponse>(kSearchResponse);
  EXPECT_EQ(FormatSearchResponse(response, /*explain=*/true),
            "57 matches (policy: E08000021) as of 2025-03-01\n"
            "rank  id                  score  distance_km  level\n"
            "   1  pa-newcastle-17  0.912345         1.23      3\n"
            "      skills       0.500000×0.3\n"
            "      distance     0.899000×0.15\n"
            "      trust        0.750000×0.05\n"
            "      skills matched: cooking; missing: gardening, shopping\n"
            "      slots covered: 10/12\n"
            "   2  pa-2             0.500000        12.00      0\n"
            "      interests    0.000000×0.1\n"
            "      preferences  1.000000×0.125\n"
            "      shared interests: -\n"
            "next page token: CgRwYS0y\n");
}

TEST(SearchFormat, NoResultsNoPolicy) {
  auto response =
      FromText<pamatch::v1::SearchResponse>(R"pb(total_matches: 0
                                                 as_of: "2025-03-01")pb");
  EXPECT_EQ(FormatSearchResponse(response, false),
            "0 matches (policy: none) as of 2025-03-01\n");
}

TEST(TableFormat, AlignmentAndShortRows) {
  EXPECT_EQ(RenderTable({"a", "bbb", "c"}, {{"xx", "1", "long"}, {"y"}},
                        {false, true, false}),
            "a   bbb  c\n"
            "xx    1  long\n"
            "y        \n");
}

TEST(PolicyFormat, SingleAndList) {
  auto policy = FromText<pamatch::v1::Policy>(R"pb(
    local_authority: "E08000021"
    min_dbs_level: DBS_ENHANCED
    min_register_level: 2
    required_training: [ "pa_induction", "first_aid" ]
    updated_at { seconds: 1740823200 }
  )pb");
  EXPECT_EQ(FormatPolicy(policy),
            "local_authority:    E08000021\n"
            "min_dbs_level:      enhanced\n"
            "min_register_level: 2\n"
            "required_training:  pa_induction, first_aid\n"
            "updated_at:         2025-03-01T10:00:00Z\n");
  pamatch::v1::ListPoliciesResponse list;
  *list.add_policies() = policy;
  list.add_policies()->set_local_authority("E06000047");
  EXPECT_EQ(FormatPolicyList(list),
            "local_authority  min_dbs   min_level  required_training        "
            "updated_at\n"
            "E08000021        enhanced          2  pa_induction, first_aid  "
            "2025-03-01T10:00:00Z\n"
            "E06000047        none              0  -                        "
            "-\n");
  EXPECT_EQ(FormatPolicyList(pamatch::v1::ListPoliciesResponse()),
            "no policies\n");
}

TEST(StatsFormat, KeyValuesAndAuthorities) {
  auto stats = FromText<pamatch::v1::GetStatsResponse>(R"pb(
    profiles: 120000
    active_profiles: 119000
    paused_profiles: 1000
    policies: 2
    profiles_by_local_authority { key: "E08000021" value: 70000 }
    profiles_by_local_authority { key: "E06000047" value: 50000 }
    uptime_seconds: 3600
    data_dir: "/var/lib/pa-match"
    version: "0.1.0"
    taxonomy_skills: 40
    taxonomy_training: 25
    unsorted_profiles: 4200
    index_relayouts: 3
    last_relayout_seconds: 0.75
    last_relayout_pause_seconds: 0.002
    last_relayout_write_pause_seconds: 0.0125
  )pb");
  EXPECT_EQ(FormatStats(stats),
            "profiles:          120000\n"
            "active_profiles:   119000\n"
            "paused_profiles:   1000\n"
            "policies:          2\n"
            "uptime_seconds:    3600\n"
            "data_dir:          /var/lib/pa-match\n"
            "version:           0.1.0\n"
            "taxonomy_skills:   40\n"
            "taxonomy_training: 25\n"
            "unsorted_profiles: 4200\n"
            "index_relayouts:   3\n"
            "last_relayout_s:   0.750 (searches paused 2.000 ms, writes 12.5 ms)\n"
            "\n"
            "local_authority  profiles\n"
            "E06000047           50000\n"
            "E08000021           70000\n");
}

TEST(UpsertFormat, Lines) {
  auto response = FromText<pamatch::v1::UpsertProfileResponse>(
      R"pb(id: "pa-1" version: 7 created: true)pb");
  EXPECT_EQ(FormatUpsert(response), "id: pa-1\nversion: 7\ncreated: true\n");
}

TEST(JsonFormat, ProtoNamesAndPrimitiveFields) {
  auto response = FromText<pamatch::v1::UpsertProfileResponse>(
      R"pb(id: "pa-1" version: 7)pb");
  EXPECT_EQ(ToJson(response),
            R"({"id":"pa-1","version":"7","created":false,"position":"0"})");
  pamatch::v1::GetProfileResponse get;
  get.mutable_profile()->set_id("pa-1");
  get.set_register_level(2);
  EXPECT_NE(ToJson(get).find("\"register_level\":2"), std::string::npos);
  EXPECT_NE(ToJson(get).find("\"max_travel_km\":0"), std::string::npos);
  EXPECT_NE(ToJson(get, /*pretty=*/true).find("\n"), std::string::npos);
}

TEST(JobFormat, UpsertLines) {
  auto response = FromText<pamatch::v1::UpsertJobResponse>(
      R"pb(id: "job-1" version: 2 position: 881)pb");
  EXPECT_EQ(FormatJobUpsert(response),
            "id: job-1\nversion: 2\ncreated: false\nposition: 881\n");
}

const char kMatchJobsResponse[] = R"pb(
  total_matches: 3
  as_of: "2026-06-15"
  register_level: 2
  next_page_token: "TOKEN"
  results {
    job_id: "job-newcastle-1"
    score: 0.812345
    distance_km: 2.5
    local_authority: "E08000021"
    applied_policy: "E08000021"
    explanation {
      components { name: "skills" value: 0.5 weight: 0.3 }
      matched_skills: "cooking"
      missing_skills: "shopping"
    }
  }
  results { job_id: "j2" score: 0.5 distance_km: 12.25 }
)pb";

TEST(MatchJobsFormat, TableExplainAndPages) {
  auto response = FromText<pamatch::v1::MatchJobsResponse>(kMatchJobsResponse);
  EXPECT_EQ(
      FormatMatchJobsResponse(response, /*explain=*/false),
      "3 jobs match (register level 2) as of 2026-06-15\n"
      "rank  job_id              score  distance_km  local_authority  policy\n"
      "   1  job-newcastle-1  0.812345         2.50  E08000021        E08000021\n"
      "   2  j2               0.500000        12.25  -                -\n"
      "next page token: TOKEN\n");
  EXPECT_EQ(
      FormatMatchJobsResponse(response, /*explain=*/true),
      "3 jobs match (register level 2) as of 2026-06-15\n"
      "rank  job_id              score  distance_km  local_authority  policy\n"
      "   1  job-newcastle-1  0.812345         2.50  E08000021        E08000021\n"
      "      skills       0.500000×0.3\n"
      "      skills matched: cooking; missing: shopping\n"
      "   2  j2               0.500000        12.25  -                -\n"
      "next page token: TOKEN\n");
  // A later page of --all_pages: ranks go on, no header, no token.
  EXPECT_EQ(
      FormatMatchJobsResponse(response, false, /*first_rank=*/21,
                              /*with_header=*/false, /*show_token=*/false),
      "rank  job_id              score  distance_km  local_authority  policy\n"
      "  21  job-newcastle-1  0.812345         2.50  E08000021        E08000021\n"
      "  22  j2               0.500000        12.25  -                -\n");
  EXPECT_EQ(FormatMatchJobsResponse(
                FromText<pamatch::v1::MatchJobsResponse>(
                    R"pb(total_matches: 1 as_of: "2026-06-15")pb"),
                false),
            "1 job matches (register level 0) as of 2026-06-15\n");
}

// ---- import bookkeeping ----------------------------------------------------

TEST(ImportTally, MapsResultsToLines) {
  ImportTally tally;
  for (int i = 0; i < 5; ++i) tally.LineRead();
  tally.RejectLocal(2, "invalid Profile JSON: unexpected end");
  auto response = FromText<pamatch::v1::BulkUpsertProfilesResponse>(R"pb(
    accepted: 2
    rejected: 2
    results { index: 0 id: "pa-1" code: 0 version: 1 }
    results { index: 1 id: "pa-3" code: 3 error: "location.lat: 70 outside UK" }
    results { index: 2 id: "pa-4" code: 9 error: "stale version 1 <= 4" }
    results { index: 3 id: "pa-5" code: 0 version: 2 }
  )pb");
  tally.AddChunk(response, {1, 3, 4, 6});
  EXPECT_EQ(tally.accepted(), 2);
  EXPECT_EQ(tally.rejected(), 3);
  EXPECT_EQ(tally.ProgressLine(2.0), "imported 5 lines, 3/s, 3 rejected");
  EXPECT_EQ(tally.Summary(),
            "accepted 2, rejected 3\n"
            "first 3 rejections:\n"
            "  line 2: invalid Profile JSON: unexpected end\n"
            "  line 3 (pa-3): INVALID_ARGUMENT: location.lat: 70 outside UK\n"
            "  line 4 (pa-4): FAILED_PRECONDITION: stale version 1 <= 4\n");
}

TEST(ImportTally, KeepsFirstRejectionsByLine) {
  ImportTally tally(/*keep=*/3);
  // A chunk's server results arrive after later local rejections.
  tally.RejectLocal(9, "bad 9");
  tally.RejectLocal(12, "bad 12");
  tally.RejectLocal(15, "bad 15");
  auto response = FromText<pamatch::v1::BulkUpsertProfilesResponse>(R"pb(
    rejected: 1
    results { index: 1 id: "p" code: 3 error: "x" }
  )pb");
  tally.AddChunk(response, {4, 5});
  tally.RejectLocal(20, "bad 20");
  tally.AddUnconfirmed(7);
  EXPECT_EQ(tally.rejected(), 5);
  EXPECT_EQ(tally.Summary(),
            "accepted 0, rejected 5, unconfirmed 7\n"
            "first 3 rejections:\n"
            "  line 5 (p): INVALID_ARGUMENT: x\n"
            "  line 9: bad 9\n"
            "  line 12: bad 12\n");
}

TEST(ImportTally, JobChunksMapToLinesToo) {
  ImportTally tally;
  for (int i = 0; i < 3; ++i) tally.LineRead();
  auto response = FromText<pamatch::v1::BulkUpsertJobsResponse>(R"pb(
    accepted: 1
    rejected: 1
    results { index: 0 id: "job-1" code: 0 version: 1 }
    results { index: 1 id: "job-2" code: 3 error: "job.request.page_size: must be unset" }
  )pb");
  tally.AddChunk(response, {2, 3});
  EXPECT_EQ(tally.Summary(),
            "accepted 1, rejected 1\n"
            "first 1 rejection:\n"
            "  line 3 (job-2): INVALID_ARGUMENT: job.request.page_size: must "
            "be unset\n");
}

TEST(ImportTally, AllAccepted) {
  ImportTally tally;
  tally.LineRead();
  auto response = FromText<pamatch::v1::BulkUpsertProfilesResponse>(
      R"pb(accepted: 1
           results { index: 0 id: "a" })pb");
  tally.AddChunk(response, {1});
  EXPECT_EQ(tally.Summary(), "accepted 1, rejected 0\n");
  EXPECT_EQ(tally.ProgressLine(0), "imported 1 lines, 0/s, 0 rejected");
}

}  // namespace
}  // namespace pamatch::cli
