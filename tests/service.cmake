# Service layer (service/): the API-key store, the Matcher gRPC service over a
# real engine on a loopback port (profiles, policies, jobs, Watch), the
# metrics endpoint over HTTP, and the pa-matchd binary as a subprocess.
pa_match_test(service_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/service_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/service_jobs_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/service_api_keys_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/service_binary_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/service_metrics_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/service_admission_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/service_authorities_test.cc
  LIBS pamatch_service GTest::gmock)
target_compile_definitions(service_test PRIVATE
  PA_MATCHD_PATH="$<TARGET_FILE:pa-matchd>")
add_dependencies(service_test pa-matchd)

# Abusive clients against a real server (issue 18 point 6); its own binary,
# so its ~30 s of attacks run beside the other service tests.
pa_match_test(service_abuse_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/service_abuse_test.cc
  LIBS pamatch_service GTest::gmock)
