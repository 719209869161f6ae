# Demo-data generator (engine/demo_data.h): determinism, validity against the
# API and taxonomy/north_east.json, documented distributions.
pa_match_test(demo_data_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/demo_data_test.cc
  LIBS pamatch_engine protobuf::libprotobuf)
