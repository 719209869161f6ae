# The PostgreSQL baseline's report script (bench/postgres/ratios.py), on
# result files the test writes; the baseline itself needs PostgreSQL and
# runs outside the suite (docs/POSTGRES-BASELINE.md).
add_test(NAME PostgresBaselineRatios
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/postgres/ratios_test.py)
set_tests_properties(PostgresBaselineRatios PROPERTIES TIMEOUT 60)
