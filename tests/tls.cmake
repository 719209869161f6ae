# TLS and mTLS (service/tls.*, common/tls_channel.*): the pa-matchd binary
# with certificates the test makes with the openssl command (scripts/setup.sh
# installs it), and the secure default for non-loopback addresses.
pa_match_test(service_tls_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/service_tls_test.cc
  LIBS pamatch_service pamatch_tls_channel GTest::gmock)
target_compile_definitions(service_tls_test PRIVATE
  PA_MATCHD_PATH="$<TARGET_FILE:pa-matchd>")
add_dependencies(service_tls_test pa-matchd)
