# Unit tests of the operator CLI's pure parts (cli/): flag parser, schedule
# parsing, search request building, JSON loading, global options, output
# formatting and import bookkeeping.
pa_match_test(cli_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cli_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/cli_format_test.cc
  LIBS pamatch_cli_lib GTest::gmock)
# The pa-match binary against a real pa-matchd on loopback (job commands,
# match-jobs, watch and its position file).
pa_match_test(cli_binary_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cli_binary_test.cc
  LIBS pamatch_service GTest::gmock)
target_compile_definitions(cli_binary_test PRIVATE
  PA_MATCHD_PATH="$<TARGET_FILE:pa-matchd>"
  PA_MATCH_CLI_PATH="$<TARGET_FILE:pa-match>")
add_dependencies(cli_binary_test pa-matchd pa-match)
