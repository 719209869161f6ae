# deploy/: the install rules and the systemd unit, run for real from a
# temporary prefix (tests/deploy_test.sh).
add_test(NAME DeployUnitRunsFromAnInstall
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/deploy_test.sh
          ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} ${CMAKE_COMMAND})
set_tests_properties(DeployUnitRunsFromAnInstall PROPERTIES TIMEOUT 180)
