# Demo-data generator (demo/demo_data.h): determinism, validity against the
# API and the taxonomy files (north_east.json, great_britain.json), the
# compiled places table against taxonomy/gb_places.csv, documented
# distributions.
pa_match_test(demo_data_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/demo_data_test.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/demo_data_national_test.cc
  LIBS pamatch_demo pamatch_engine protobuf::libprotobuf)
