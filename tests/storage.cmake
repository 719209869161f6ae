# Storage (engine/storage.*): erasure, backup and restore, and data dirs that
# are damaged, missing, read-only, full or of a newer schema — against real
# RocksDB files in temp dirs (tmpfs mounts where the test runs as root).
pa_match_test(storage_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/storage_erasure_test.cc
  LIBS pamatch_engine pamatch_demo Threads::Threads GTest::gmock)
pa_match_test(storage_bad_dirs_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/storage_bad_dirs_test.cc
  LIBS pamatch_service RocksDB::rocksdb Threads::Threads GTest::gmock)
target_compile_definitions(storage_bad_dirs_test PRIVATE
  PA_MATCHD_PATH="$<TARGET_FILE:pa-matchd>")
add_dependencies(storage_bad_dirs_test pa-matchd)
