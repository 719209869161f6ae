# Group commit (engine/commit_queue.*): racing writers, durability across a
# reopen, shared syncs, in-group order; real RocksDB in temp dirs. Also run
# under ThreadSanitizer in CI (label "tsan").
pa_match_test(commit_queue_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/commit_queue_test.cc
  LIBS pamatch_engine Threads::Threads LABELS tsan)
