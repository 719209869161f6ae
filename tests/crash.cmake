# Crash test: the real pa-matchd killed with SIGKILL under concurrent writes,
# 20 rounds; runs in the normal and the ASan suite.
pa_match_test(crash_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/crash_test.cc
  LIBS pamatch_service pamatch_grpc Threads::Threads
  LABELS crash)
target_compile_definitions(crash_test PRIVATE
  PA_MATCHD_PATH="$<TARGET_FILE:pa-matchd>")
add_dependencies(crash_test pa-matchd)

# Alerts under SIGKILL: a Watch subscriber resumes across 10 kills and must
# see every event exactly once, adding up to the pairs that match.
pa_match_test(alerts_crash_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/alerts_crash_test.cc
  LIBS pamatch_service pamatch_grpc Threads::Threads
  LABELS crash)
target_compile_definitions(alerts_crash_test PRIVATE
  PA_MATCHD_PATH="$<TARGET_FILE:pa-matchd>")
add_dependencies(alerts_crash_test pa-matchd)
