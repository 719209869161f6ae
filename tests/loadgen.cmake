# The load generator (bench/loadgen/): its latency histogram.
pa_match_test(loadgen_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/loadgen_histogram_test.cc
  LIBS pamatch_loadgen)
