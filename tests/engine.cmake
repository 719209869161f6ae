pa_match_test(engine_rules_test SOURCES engine_rules_test.cc LIBS pamatch_engine)
pa_match_test(engine_concurrency_test SOURCES engine_concurrency_test.cc
              LIBS pamatch_engine pamatch_demo Threads::Threads LABELS tsan)
pa_match_test(index_differential_test SOURCES index_differential_test.cc
              LIBS pamatch_engine pamatch_demo)
pa_match_test(profile_index_test SOURCES profile_index_test.cc LIBS pamatch_engine)
pa_match_test(index_relayout_test SOURCES index_relayout_test.cc
              LIBS pamatch_engine pamatch_demo Threads::Threads LABELS tsan)
pa_match_test(engine_jobs_test SOURCES engine_jobs_test.cc
              LIBS pamatch_engine GTest::gmock)
pa_match_test(engine_jobs_concurrency_test
              SOURCES engine_jobs_concurrency_test.cc
              LIBS pamatch_engine Threads::Threads LABELS tsan)
pa_match_test(jobs_differential_test SOURCES jobs_differential_test.cc
              LIBS pamatch_engine pamatch_demo)
pa_match_test(alerts_replay_test SOURCES alerts_replay_test.cc
              LIBS pamatch_engine pamatch_demo)
pa_match_test(alerts_concurrency_test SOURCES alerts_concurrency_test.cc
              LIBS pamatch_engine pamatch_demo Threads::Threads LABELS tsan)
pa_match_test(job_match_change_test SOURCES job_match_change_test.cc
              LIBS pamatch_engine pamatch_demo pamatch_query_mix)
pa_match_test(alerts_prepare_test SOURCES alerts_prepare_test.cc
              LIBS pamatch_engine)
