# Unit tests of the operator CLI's pure parts (cli/): flag parser, schedule
# parsing, search request building, JSON loading, global options, output
# formatting and import bookkeeping.
pa_match_test(cli_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cli_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/cli_format_test.cc
  LIBS pamatch_cli_lib)
