# The independent oracle (tests/oracle/): a from-scratch Python implementation
# of MATCHING.md, unit-tested on hand-worked cases, and compared with the real
# server through the gRPC API on seeded random adversarial data. Needs
# Debian's python3-grpcio, python3-protobuf, protobuf-compiler and
# protobuf-compiler-grpc (grpc_python_plugin).
set(PA_MATCH_ORACLE_DIR ${PROJECT_SOURCE_DIR}/tests/oracle)

add_test(NAME OracleSelfTest
  COMMAND /usr/bin/python3 ${PA_MATCH_ORACLE_DIR}/oracle_selftest.py)
set_tests_properties(OracleSelfTest PROPERTIES TIMEOUT 60)

# A new seed every run (printed first; replay with --seed N).
if(TARGET pa-matchd)
  add_test(NAME OracleDifferential
    COMMAND /usr/bin/python3 ${PA_MATCH_ORACLE_DIR}/differential_test.py
            --server $<TARGET_FILE:pa-matchd> --requests 300)
  set_tests_properties(OracleDifferential PROPERTIES TIMEOUT 600)
endif()
