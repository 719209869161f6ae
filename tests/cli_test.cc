// Unit tests of the pa-match CLI's pure parts (cli/): the flag parser,
// schedule and enum parsing, search request building (flags, JSON, JSON with
// overriding flags), jobs, match-jobs and watch requests, the watch position
// file, global option resolution, import bookkeeping and the exact
// human-readable output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/config.h"
#include "cli/flags.h"
#include "cli/format.h"
#include "cli/import_tally.h"
#include "cli/job_request.h"
#include "cli/search_request.h"
#include "cli/watch_position.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"

namespace pamatch::cli {
namespace {

using pamatch::v1::SearchRequest;

const std::vector<FlagSpec> kSpecs = {
    {"lat", true, "DEG", "latitude"},
    {"must", true, "A,B", "skills"},
    {"driver", false, "", "driver"},
    {"file", true, "FILE", "input"},
};

ParsedFlags MustParse(const std::vector<std::string>& args,
                      const std::vector<FlagSpec>& specs = kSpecs) {
  auto result = ParseFlags(args, specs);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? result->flags : ParsedFlags();
}

std::string ParseError(const std::vector<std::string>& args) {
  auto result = ParseFlags(args, kSpecs);
  EXPECT_FALSE(result.ok());
  return result.ok() ? "" : std::string(result.status().message());
}

template <typename Message>
Message FromText(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

#define EXPECT_PROTO_EQ(actual, expected)                                   \
  EXPECT_TRUE(                                                              \
      google::protobuf::util::MessageDifferencer::Equals(actual, expected)) \
      << "actual:\n"                                                        \
      << (actual).DebugString() << "expected:\n"                            \
      << (expected).DebugString()

// ---- flag parser -----------------------------------------------------------

TEST(FlagParser, SpaceAndEqualsForms) {
  ParsedFlags flags = MustParse({"--lat", "54.9", "--must=a,b"});
  EXPECT_EQ(flags.Get("lat"), "54.9");
  EXPECT_EQ(flags.Get("must"), "a,b");
  EXPECT_FALSE(flags.Has("driver"));
  EXPECT_EQ(flags.Get("driver", "dflt"), "dflt");
}

TEST(FlagParser, Booleans) {
  EXPECT_TRUE(MustParse({"--driver"}).GetBool("driver"));
  EXPECT_TRUE(MustParse({"--driver=yes"}).GetBool("driver"));
  ParsedFlags off = MustParse({"--driver=false"});
  EXPECT_TRUE(off.Has("driver"));
  EXPECT_FALSE(off.GetBool("driver"));
  // A boolean never consumes the next argument.
  ParsedFlags next = MustParse({"--driver", "pos"});
  EXPECT_TRUE(next.GetBool("driver"));
  EXPECT_EQ(next.positional(), std::vector<std::string>{"pos"});
  EXPECT_EQ(ParseError({"--driver=maybe"}),
            "--driver: expected true or false, got \"maybe\"");
}

TEST(FlagParser, NegativeNumberIsAValue) {
  EXPECT_EQ(MustParse({"--lat", "-1.61"}).Get("lat"), "-1.61");
}

TEST(FlagParser, PositionalsDashAndTerminator) {
  ParsedFlags flags = MustParse({"a", "--file", "-", "b", "--", "--lat", "-"});
  EXPECT_EQ(flags.Get("file"), "-");
  EXPECT_EQ(flags.positional(),
            (std::vector<std::string>{"a", "b", "--lat", "-"}));
  EXPECT_FALSE(flags.Has("lat"));
}

TEST(FlagParser, LastValueWins) {
  EXPECT_EQ(MustParse({"--lat", "1", "--lat=2"}).Get("lat"), "2");
}

TEST(FlagParser, Help) {
  EXPECT_TRUE(MustParse({"--help"}).GetBool("help"));
  EXPECT_TRUE(MustParse({"-h"}).GetBool("help"));
}

TEST(FlagParser, Errors) {
  EXPECT_EQ(ParseError({"--nope"}), "unknown flag --nope");
  EXPECT_EQ(ParseError({"--nope=1"}), "unknown flag --nope");
  EXPECT_EQ(ParseError({"-x"}), "unknown flag -x (flags start with --)");
  EXPECT_EQ(ParseError({"--lat"}), "--lat needs a value");
  EXPECT_EQ(ParseError({"--lat", "--driver"}), "--lat needs a value");
}

TEST(FlagParser, StopAtPositional) {
  auto result = ParseFlags({"--lat", "1", "search", "--driver"}, kSpecs,
                           {.stop_at_positional = true});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->flags.Get("lat"), "1");
  EXPECT_FALSE(result->flags.Has("driver"));
  EXPECT_EQ(result->rest, (std::vector<std::string>{"search", "--driver"}));
}

TEST(FlagParser, TypedAccessors) {
  ParsedFlags flags = MustParse({"--lat", "54.5", "--must", " a, ,b ,"});
  EXPECT_EQ(flags.GetDouble("lat").value(), 54.5);
  EXPECT_EQ(flags.GetDouble("file").value(), std::nullopt);
  EXPECT_EQ(flags.GetList("must"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(flags.GetList("file"), std::nullopt);

  ParsedFlags bad = MustParse({"--lat", "north", "--must", "1.5"});
  EXPECT_EQ(bad.GetDouble("lat").status().message(),
            "--lat: not a number: \"north\"");
  EXPECT_EQ(bad.GetInt("must").status().message(),
            "--must: not an integer: \"1.5\"");
  EXPECT_FALSE(MustParse({"--lat", "nan"}).GetDouble("lat").ok());
}

TEST(FlagParser, Merge) {
  ParsedFlags a = MustParse({"--lat", "1", "x"});
  a.Merge(MustParse({"--lat", "2", "--driver", "y"}));
  EXPECT_EQ(a.Get("lat"), "2");
  EXPECT_TRUE(a.GetBool("driver"));
  EXPECT_EQ(a.positional(), (std::vector<std::string>{"x", "y"}));
}

TEST(FlagParser, HelpText) {
  EXPECT_EQ(FormatFlagHelp(kSpecs),
            "  --lat DEG     latitude\n"
            "  --must A,B    skills\n"
            "  --driver      driver\n"
            "  --file FILE   input\n");
}

// ---- schedule and enums ----------------------------------------------------

std::string ScheduleText(const std::string& input) {
  auto parsed = ParseSchedule(input);
  if (!parsed.ok()) return "ERROR " + std::string(parsed.status().message());
  std::string out;
  for (const auto& interval : *parsed) {
    out += pamatch::v1::DayOfWeek_Name(interval.day()) + " " +
           interval.start() + "-" + interval.end() + ";";
  }
  return out;
}

TEST(Schedule, Parses) {
  EXPECT_EQ(ScheduleText("MON 09:00-12:00,TUE 17:00-22:00"),
            "MONDAY 09:00-12:00;TUESDAY 17:00-22:00;");
  EXPECT_EQ(ScheduleText(" wed  9:30-10:00 , Sun 00:00-24:00 "),
            "WEDNESDAY 09:30-10:00;SUNDAY 00:00-24:00;");
  EXPECT_EQ(ScheduleText(""), "");
  EXPECT_EQ(ScheduleText("FRI 08:00-09:00,"), "FRIDAY 08:00-09:00;");
}

TEST(Schedule, OvernightSplits) {
  EXPECT_EQ(ScheduleText("MON 22:00-07:00"),
            "MONDAY 22:00-24:00;TUESDAY 00:00-07:00;");
  EXPECT_EQ(ScheduleText("SUN 23:30-01:00"),
            "SUNDAY 23:30-24:00;MONDAY 00:00-01:00;");
  EXPECT_EQ(ScheduleText("SAT 20:00-00:00"), "SATURDAY 20:00-24:00;");
}

TEST(Schedule, Errors) {
  const std::string hint = " (expected e.g. \"MON 09:00-12:00\")";
  EXPECT_EQ(
      ScheduleText("XYZ 09:00-10:00"),
      "ERROR schedule item \"XYZ 09:00-10:00\": day must be MON..SUN" + hint);
  EXPECT_EQ(ScheduleText("MON 09:15-10:00"),
            "ERROR schedule item \"MON 09:15-10:00\": times must be HH:MM "
            "with minutes 00 or 30, up to 24:00" +
                hint);
  EXPECT_EQ(ScheduleText("MON 09:00"),
            "ERROR schedule item \"MON 09:00\": expected a range "
            "HH:MM-HH:MM" +
                hint);
  EXPECT_EQ(ScheduleText("MON"),
            "ERROR schedule item \"MON\": expected DAY HH:MM-HH:MM" + hint);
  EXPECT_EQ(ScheduleText("MON 10:00-10:00"),
            "ERROR schedule item \"MON 10:00-10:00\": start and end are "
            "equal" +
                hint);
  EXPECT_EQ(ScheduleText("MON 24:00-01:00"),
            "ERROR schedule item \"MON 24:00-01:00\": start must be before "
            "24:00" +
                hint);
  EXPECT_TRUE(ScheduleText("MON 09:00-24:30").starts_with("ERROR"));
  EXPECT_TRUE(ScheduleText("MON 9-12").starts_with("ERROR"));
  EXPECT_TRUE(ScheduleText("MON 0a:00-12:00").starts_with("ERROR"));
  EXPECT_TRUE(ScheduleText("MON 09:00-12:00 x").starts_with("ERROR"));
}

TEST(Enums, Parse) {
  EXPECT_EQ(ParseDbsLevel("enhanced").value(), pamatch::v1::DBS_ENHANCED);
  EXPECT_EQ(ParseDbsLevel("DBS_ENHANCED_BARRED_ADULTS").value(),
            pamatch::v1::DBS_ENHANCED_BARRED_ADULTS);
  EXPECT_EQ(ParseDbsLevel("None").value(), pamatch::v1::DBS_NONE);
  EXPECT_FALSE(ParseDbsLevel("gold").ok());
  EXPECT_EQ(ParseGender("non_binary").value(), pamatch::v1::GENDER_NON_BINARY);
  EXPECT_EQ(ParseGender("GENDER_FEMALE").value(), pamatch::v1::GENDER_FEMALE);
  EXPECT_FALSE(ParseGender("x").ok());
  EXPECT_EQ(ParseAgeBand("65_plus").value(), pamatch::v1::AGE_BAND_65_PLUS);
  EXPECT_EQ(ParseAgeBand("AGE_BAND_25_34").value(),
            pamatch::v1::AGE_BAND_25_34);
  EXPECT_FALSE(ParseAgeBand("30").ok());
  EXPECT_EQ(DbsLevelName(pamatch::v1::DBS_STANDARD), "standard");
  EXPECT_EQ(DbsLevelName(pamatch::v1::DBS_LEVEL_UNSPECIFIED), "none");
  EXPECT_EQ(StatusCodeName(3), "INVALID_ARGUMENT");
  EXPECT_EQ(StatusCodeName(16), "UNAUTHENTICATED");
  EXPECT_EQ(StatusCodeName(99), "CODE_99");
}

// ---- search request building ----------------------------------------------

ParsedFlags SearchFlags(const std::vector<std::string>& args) {
  return MustParse(args, SearchFlagSpecs());
}

TEST(SearchRequestBuild, AllFlags) {
  ParsedFlags flags = SearchFlags({"--lat",
                                   "54.97",
                                   "--lon",
                                   "-1.61",
                                   "--la",
                                   "E08000021",
                                   "--max_km",
                                   "12.5",
                                   "--must",
                                   "personal_care,cooking",
                                   "--nice",
                                   "shopping",
                                   "--training",
                                   "pa_induction",
                                   "--preferred_training",
                                   "first_aid",
                                   "--dbs",
                                   "enhanced",
                                   "--dbs_max_age_months",
                                   "24",
                                   "--level",
                                   "2",
                                   "--driver",
                                   "--car",
                                   "--pets",
                                   "--non_smoker",
                                   "--languages",
                                   "en",
                                   "--preferred_languages",
                                   "pl,ur",
                                   "--genders",
                                   "female",
                                   "--age_bands",
                                   "25_34,65_plus",
                                   "--required_gender",
                                   "female",
                                   "--interests",
                                   "music",
                                   "--schedule",
                                   "MON 09:00-12:00,TUE 17:00-22:00",
                                   "--min_coverage",
                                   "0.5",
                                   "--short_notice",
                                   "--max_rate_pence",
                                   "1500",
                                   "--exclude",
                                   "pa-1,pa-2",
                                   "--as_of",
                                   "2025-03-01",
                                   "--page_size",
                                   "50",
                                   "--page_token",
                                   "tok",
                                   "--weights",
                                   "skills=0.5,distance=0",
                                   "--explain"});
  auto built = BuildSearchRequest(flags, std::nullopt);
  ASSERT_TRUE(built.ok()) << built.status();
  SearchRequest expected = FromText<SearchRequest>(R"pb(
    location { lat: 54.97 lon: -1.61 }
    local_authority: "E08000021"
    max_distance_km: 12.5
    must_have_skills: [ "personal_care", "cooking" ]
    nice_to_have_skills: "shopping"
    required_training: "pa_induction"
    preferred_training: "first_aid"
    min_dbs_level: DBS_ENHANCED
    dbs_max_age_months: 24
    min_register_level: 2
    requires_driver: true
    requires_car: true
    has_pets: true
    requires_non_smoker: true
    required_languages: "en"
    preferred_languages: [ "pl", "ur" ]
    preferred_genders: GENDER_FEMALE
    preferred_age_bands: [ AGE_BAND_25_34, AGE_BAND_65_PLUS ]
    required_gender: GENDER_FEMALE
    interests: "music"
    schedule { day: MONDAY start: "09:00" end: "12:00" }
    schedule { day: TUESDAY start: "17:00" end: "22:00" }
    min_schedule_coverage: 0.5
    short_notice: true
    max_hourly_rate_pence: 1500
    exclude_ids: [ "pa-1", "pa-2" ]
    as_of: "2025-03-01"
    page_size: 50
    page_token: "tok"
    weights { skills: 0.5 distance: 0 }
    explain: true
  )pb");
  EXPECT_PROTO_EQ(*built, expected);
}

TEST(SearchRequestBuild, MinimalAndUnsetOptionals) {
  auto built =
      BuildSearchRequest(SearchFlags({"--la", "E08000021"}), std::nullopt);
  ASSERT_TRUE(built.ok());
  EXPECT_FALSE(built->has_location());
  EXPECT_FALSE(built->has_max_distance_km());
  EXPECT_FALSE(built->has_dbs_max_age_months());
  EXPECT_FALSE(built->has_weights());
}

std::string BuildError(const std::vector<std::string>& args,
                       std::optional<std::string> json = std::nullopt) {
  auto built = BuildSearchRequest(SearchFlags(args), json);
  EXPECT_FALSE(built.ok());
  return built.ok() ? "" : std::string(built.status().message());
}

TEST(SearchRequestBuild, Errors) {
  EXPECT_EQ(BuildError({"--lat", "54"}), "--lat and --lon go together");
  EXPECT_EQ(BuildError({"--max_km", "far"}), "--max_km: not a number: \"far\"");
  EXPECT_EQ(BuildError({"--level", "99999999999"}),
            "--level: out of range: 99999999999");
  EXPECT_TRUE(BuildError({"--dbs", "gold"}).starts_with("--dbs: unknown DBS"));
  EXPECT_TRUE(BuildError({"--schedule", "MON 09:15-10:00"})
                  .starts_with("--schedule: schedule item"));
  EXPECT_TRUE(BuildError({"--genders", "female,x"})
                  .starts_with("--genders: unknown gender"));
  EXPECT_TRUE(BuildError({"--weights", "speed=1"})
                  .starts_with("--weights: unknown component \"speed\""));
  EXPECT_EQ(BuildError({"--weights", "skills"}),
            "--weights: expected NAME=NUMBER, got \"skills\"");
  EXPECT_TRUE(BuildError({}, "{\"name\": \"Alice\"}")
                  .starts_with("invalid SearchRequest JSON"));
  EXPECT_TRUE(BuildError({}, "not json").starts_with("invalid SearchRequest"));
}

TEST(SearchRequestBuild, JsonThenFlagsOverride) {
  const std::string json = R"({
    "location": {"lat": 54.9, "lon": -1.5},
    "local_authority": "E08000021",
    "must_have_skills": ["cooking", "shopping"],
    "nice_to_have_skills": ["gardening"],
    "min_dbs_level": "DBS_STANDARD",
    "requires_driver": true,
    "page_size": 5,
    "weights": {"skills": 0.4, "trust": 0.2},
    "schedule": [{"day": "FRIDAY", "start": "10:00", "end": "11:00"}]
  })";
  ParsedFlags flags =
      SearchFlags({"--lat", "55.0", "--must", "personal_care", "--driver=false",
                   "--page_size", "10", "--weights", "skills=1", "--explain"});
  auto built = BuildSearchRequest(flags, json);
  ASSERT_TRUE(built.ok()) << built.status();
  SearchRequest expected = FromText<SearchRequest>(R"pb(
    location { lat: 55.0 lon: -1.5 }
    local_authority: "E08000021"
    must_have_skills: "personal_care"
    nice_to_have_skills: "gardening"
    min_dbs_level: DBS_STANDARD
    requires_driver: false
    page_size: 10
    weights { skills: 1 trust: 0.2 }
    schedule { day: FRIDAY start: "10:00" end: "11:00" }
    explain: true
  )pb");
  EXPECT_PROTO_EQ(*built, expected);
}

TEST(SearchRequestBuild, JsonAcceptsCamelCase) {
  auto built = BuildSearchRequest(SearchFlags({}),
                                  std::string(R"({"mustHaveSkills": ["a"]})"));
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->must_have_skills(0), "a");
}

TEST(ProfileJson, ParsesAndRejectsUnknownFields) {
  auto profile = ParseProfileJson(
      R"({"id": "pa-1", "version": "3", "location": {"lat": 54.9, "lon": -1.6},
          "skills": ["cooking"], "checks": {"dbs": {"level": "DBS_BASIC"}}})");
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->id(), "pa-1");
  EXPECT_EQ(profile->version(), 3);
  EXPECT_EQ(profile->checks().dbs().level(), pamatch::v1::DBS_BASIC);
  EXPECT_FALSE(ParseProfileJson(R"({"id": "pa-1", "phone": "0191"})").ok());
  EXPECT_FALSE(ParseProfileJson(R"({"id": )").ok());
}

// ---- jobs and match-jobs ---------------------------------------------------

ParsedFlags JobFlags(const std::vector<std::string>& args) {
  return MustParse(args, JobFlagSpecs());
}

TEST(JobBuild, FromFlags) {
  auto job = BuildJob(
      JobFlags({"--id", "job-1", "--status", "Filled", "--closes_on",
                "2026-12-31", "--lat", "54.97", "--lon", "-1.61", "--la",
                "E08000021", "--must", "personal_care", "--schedule",
                "MON 09:00-12:00", "--dbs", "enhanced"}),
      std::nullopt);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_PROTO_EQ(*job, FromText<pamatch::v1::Job>(R"pb(
    id: "job-1"
    status: FILLED
    closes_on: "2026-12-31"
    request {
      location { lat: 54.97 lon: -1.61 }
      local_authority: "E08000021"
      must_have_skills: "personal_care"
      min_dbs_level: DBS_ENHANCED
      schedule { day: MONDAY start: "09:00" end: "12:00" }
    }
  )pb"));
}

TEST(JobBuild, JsonThenFlagsOverride) {
  auto job = BuildJob(
      JobFlags({"--version", "0", "--must", "shopping", "--max_km", "5"}),
      std::string(R"({"id": "job-1", "version": "7", "status": "OPEN",
                      "request": {"mustHaveSkills": ["cooking"],
                                  "local_authority": "E08000037"}})"));
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->id(), "job-1");
  EXPECT_EQ(job->version(), 0);
  EXPECT_EQ(job->request().local_authority(), "E08000037");
  ASSERT_EQ(job->request().must_have_skills_size(), 1);
  EXPECT_EQ(job->request().must_have_skills(0), "shopping");
  EXPECT_EQ(job->request().max_distance_km(), 5);
}

TEST(JobBuild, Errors) {
  EXPECT_EQ(BuildJob(JobFlags({"--la", "E08000021"}), std::nullopt)
                .status()
                .message(),
            "a job needs an id: --id, or \"id\" in --file");
  EXPECT_EQ(BuildJob(JobFlags({"--id", "j", "--status", "paused"}),
                     std::nullopt)
                .status()
                .message(),
            "--status: unknown job status \"paused\" (open|filled|closed)");
  EXPECT_FALSE(
      BuildJob(JobFlags({"--id", "j"}), std::string(R"({"phone": "0191"})"))
          .ok());
  // What belongs to one search only is not a job's flag.
  for (const char* flag : {"--as_of", "--page_size", "--page_token",
                           "--exclude", "--request"}) {
    EXPECT_FALSE(ParseFlags({flag, "x"}, JobFlagSpecs()).ok()) << flag;
  }
  EXPECT_FALSE(ParseFlags({"--explain"}, JobFlagSpecs()).ok());
}

TEST(JobJson, ParsesAndRejectsUnknownFields) {
  auto job = ParseJobJson(
      R"({"id": "job-1", "status": "CLOSED", "closesOn": "2026-01-31",
          "request": {"location": {"lat": 54.9, "lon": -1.6}}})");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->status(), pamatch::v1::CLOSED);
  EXPECT_EQ(job->closes_on(), "2026-01-31");
  auto bad = ParseJobJson(R"({"id": "job-1", "employer_name": "Smith"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().substr(0, 18), "invalid Job JSON: ");
}

TEST(MatchJobsBuild, ProfileIdOrWholeProfile) {
  auto request = BuildMatchJobsRequest(
      MustParse({"--profile_id", "pa-1", "--as_of", "2026-06-15",
                 "--page_size", "5", "--page_token", "abc", "--explain"},
                MatchJobsFlagSpecs()),
      std::nullopt);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_PROTO_EQ(*request, FromText<pamatch::v1::MatchJobsRequest>(R"pb(
    profile_id: "pa-1"
    as_of: "2026-06-15"
    page_size: 5
    page_token: "abc"
    explain: true
  )pb"));

  request = BuildMatchJobsRequest(MustParse({}, MatchJobsFlagSpecs()),
                                  std::string(R"({"id": "pa-9"})"));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->profile().id(), "pa-9");
  EXPECT_FALSE(request->has_profile_id());

  const std::string both_or_neither =
      "match-jobs needs exactly one of --profile_id and --profile_file";
  EXPECT_EQ(BuildMatchJobsRequest(MustParse({}, MatchJobsFlagSpecs()),
                                  std::nullopt)
                .status()
                .message(),
            both_or_neither);
  EXPECT_EQ(BuildMatchJobsRequest(
                MustParse({"--profile_id", "pa-1"}, MatchJobsFlagSpecs()),
                std::string("{}"))
                .status()
                .message(),
            both_or_neither);
  EXPECT_FALSE(BuildMatchJobsRequest(MustParse({"--profile_id", "p",
                                                "--page_size", "x"},
                                               MatchJobsFlagSpecs()),
                                     std::nullopt)
                   .ok());
}

// ---- watch -----------------------------------------------------------------

ParsedFlags WatchFlags(const std::vector<std::string>& args) {
  return MustParse(args, WatchFlagSpecs());
}

TEST(WatchBuild, OneTargetAndWhereToStart) {
  auto request = BuildWatchRequest(WatchFlags({"--job_id", "job-1"}),
                                   std::nullopt);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->job_id(), "job-1");
  EXPECT_FALSE(request->has_after_sequence());

  // The saved position, unless --after_sequence says otherwise.
  request = BuildWatchRequest(
      WatchFlags({"--local_authorities", "E08000021, E08000037"}), 41);
  ASSERT_TRUE(request.ok());
  EXPECT_PROTO_EQ(*request, FromText<pamatch::v1::WatchRequest>(R"pb(
    local_authorities { codes: [ "E08000021", "E08000037" ] }
    after_sequence: 41
  )pb"));
  request = BuildWatchRequest(
      WatchFlags({"--profile_id", "pa-1", "--after_sequence", "0"}), 41);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->profile_id(), "pa-1");
  ASSERT_TRUE(request->has_after_sequence());
  EXPECT_EQ(request->after_sequence(), 0);

  const std::string one =
      "watch needs exactly one of --job_id, --profile_id and "
      "--local_authorities";
  EXPECT_EQ(BuildWatchRequest(WatchFlags({}), std::nullopt).status().message(),
            one);
  EXPECT_EQ(BuildWatchRequest(WatchFlags({"--job_id", "j", "--profile_id", "p"}),
                              std::nullopt)
                .status()
                .message(),
            one);
  EXPECT_FALSE(BuildWatchRequest(WatchFlags({"--local_authorities", ","}),
                                 std::nullopt)
                   .ok());
  EXPECT_FALSE(BuildWatchRequest(
                   WatchFlags({"--job_id", "j", "--after_sequence", "-1"}),
                   std::nullopt)
                   .ok());
}

// A fresh directory, removed afterwards.
class PositionFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pa-match-cli-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(PositionFileTest, SavesAndReadsBackAtomically) {
  const std::string path = dir_ + "/position";
  auto missing = ReadWatchPosition(path);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, std::nullopt);

  ASSERT_TRUE(SaveWatchPosition(path, 41).ok());
  ASSERT_TRUE(SaveWatchPosition(path, 1234567890123).ok());
  auto read = ReadWatchPosition(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, 1234567890123);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "1234567890123\n");
  // Nothing left beside it.
  int files = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator(dir_)) {
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(PositionFileTest, AFileWithoutASequenceIsAnError) {
  const std::string path = dir_ + "/position";
  std::ofstream(path) << "forty-two\n";
  auto read = ReadWatchPosition(path);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find(path), std::string::npos);
  EXPECT_FALSE(SaveWatchPosition(dir_ + "/no/such/dir/position", 1).ok());
}

// ---- global options --------------------------------------------------------

TEST(ClientConfig, Precedence) {
  std::map<std::string, std::string> env;
  std::optional<std::string> key_file;
  auto lookup = [&env](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto reader = [&key_file](const std::string& path) {
    EXPECT_EQ(path, "data/admin.key");
    return key_file;
  };
  auto resolve = [&](const std::vector<std::string>& args) {
    auto config =
        ResolveClientConfig(MustParse(args, GlobalFlagSpecs()), lookup, reader);
    EXPECT_TRUE(config.ok());
    return config.value_or(ClientConfig());
  };

  ClientConfig defaults = resolve({});
  EXPECT_EQ(defaults.server, "127.0.0.1:50051");
  EXPECT_EQ(defaults.key, "");
  EXPECT_EQ(defaults.timeout_ms, 10000);
  EXPECT_FALSE(defaults.json);

  key_file = "file-key\n";
  EXPECT_EQ(resolve({}).key, "file-key");
  EXPECT_EQ(resolve({}).key_source, "data/admin.key");
  env["PA_MATCH_KEY"] = "env-key";
  env["PA_MATCH_SERVER"] = "10.0.0.1:1";
  EXPECT_EQ(resolve({}).key, "env-key");
  EXPECT_EQ(resolve({}).server, "10.0.0.1:1");
  ClientConfig flagged = resolve({"--key", "flag-key", "--server", "h:2",
                                  "--json", "--timeout_ms", "500"});
  EXPECT_EQ(flagged.key, "flag-key");
  EXPECT_EQ(flagged.server, "h:2");
  EXPECT_TRUE(flagged.json);
  EXPECT_EQ(flagged.timeout_ms, 500);
  EXPECT_TRUE(flagged.timeout_given);

  EXPECT_FALSE(
      ResolveClientConfig(MustParse({"--timeout_ms", "0"}, GlobalFlagSpecs()),
                          lookup, reader)
          .ok());

  // TLS: none by default (plaintext); flag over environment; a file that
  // cannot be read is an error naming the flag.
  EXPECT_FALSE(defaults.tls.enabled());
  EXPECT_EQ(defaults.credentials, nullptr);
  env["PA_MATCH_TLS_CA"] = "/nonexistent/env-ca.pem";
  absl::StatusOr<ClientConfig> from_env =
      ResolveClientConfig(MustParse({}, GlobalFlagSpecs()), lookup, reader);
  ASSERT_FALSE(from_env.ok());
  EXPECT_THAT(std::string(from_env.status().message()),
              ::testing::HasSubstr("--tls_ca: cannot read "
                                   "/nonexistent/env-ca.pem"));
  absl::StatusOr<ClientConfig> from_flag = ResolveClientConfig(
      MustParse({"--tls_ca", "/nonexistent/flag-ca.pem"}, GlobalFlagSpecs()),
      lookup, reader);
  ASSERT_FALSE(from_flag.ok());
  EXPECT_THAT(std::string(from_flag.status().message()),
              ::testing::HasSubstr("/nonexistent/flag-ca.pem"));
  env.erase("PA_MATCH_TLS_CA");
  absl::StatusOr<ClientConfig> half_pair = ResolveClientConfig(
      MustParse({"--tls_cert", "client.pem"}, GlobalFlagSpecs()), lookup,
      reader);
  ASSERT_FALSE(half_pair.ok());
  EXPECT_THAT(std::string(half_pair.status().message()),
              ::testing::HasSubstr("--tls_cert and --tls_key go together"));
}

}  // namespace
}  // namespace pamatch::cli
