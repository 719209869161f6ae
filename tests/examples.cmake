# examples/: the portal's Watch consumer (examples/portal_watch.py) against
# a real pa-matchd, killed and restarted (and the server under it), sending
# each notification exactly once. Needs Debian's python3-grpcio,
# python3-protobuf, protobuf-compiler and protobuf-compiler-grpc.
if(TARGET pa-matchd)
  add_test(NAME ExamplesPortalWatch
    COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/examples/portal_watch_test.py
            --server $<TARGET_FILE:pa-matchd>)
  set_tests_properties(ExamplesPortalWatch PROPERTIES TIMEOUT 300)
endif()

# examples/portal_client.py, the portal's client: TLS, a rate-limited key
# (it backs off as RESOURCE_EXHAUSTED's RetryInfo says), import, search
# with explanations through every page, delete. Needs openssl too.
if(TARGET pa-matchd)
  add_test(NAME ExamplesPortalClient
    COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/examples/portal_client_test.py
            --server $<TARGET_FILE:pa-matchd>)
  set_tests_properties(ExamplesPortalClient PROPERTIES TIMEOUT 300)
endif()
