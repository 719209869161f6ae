# Page tokens (docs/SECURITY.md): forged and tampered tokens through the
# engine and a real server on loopback.
pa_match_test(page_token_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/page_token_test.cc
  LIBS pamatch_service pamatch_demo)
