# pa-match-datagen as a binary: thread-independent output, and --server
# streaming into a real pa-matchd run on taxonomy/great_britain.json.
pa_match_test(datagen_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/datagen_test.cc
  LIBS pamatch_demo pamatch_engine pamatch_grpc protobuf::libprotobuf)
target_compile_definitions(datagen_test PRIVATE
  PA_MATCHD_PATH="$<TARGET_FILE:pa-matchd>"
  PA_MATCH_DATAGEN_PATH="$<TARGET_FILE:pa-match-datagen>")
add_dependencies(datagen_test pa-matchd pa-match-datagen)
