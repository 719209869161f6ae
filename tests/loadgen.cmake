# The load generator (bench/loadgen/): its CPU accounting, histogram, SVG
# charts and operation mix, and the real pa-match-loadgen binary driving a
# real pa-matchd on loopback.
pa_match_test(loadgen_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/loadgen_cpu_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/loadgen_histogram_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/loadgen_svg_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/loadgen_workload_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/loadgen_report_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/loadgen_binary_test.cc
  LIBS pamatch_loadgen pamatch_grpc)
target_compile_definitions(loadgen_test PRIVATE
  PA_MATCHD_PATH="$<TARGET_FILE:pa-matchd>"
  PA_MATCH_LOADGEN_PATH="$<TARGET_FILE:pa-match-loadgen>")
add_dependencies(loadgen_test pa-matchd pa-match-loadgen)
