# --help of every binary that takes flags (tests/help_test.sh): pa-matchd,
# pa-match-loadgen, pa-match-datagen and pa-match-pg-baseline list their own
# Abseil flags with their defaults (common/program_help.h) and not Abseil's
# or gRPC's; the CLI and the benchmarks print their own help. The
# pa-match-pg-baseline is checked when it has been built (it is built only
# on request: cmake --build build --target pa-match-pg-baseline).
set(PA_MATCH_HELP_BINARIES)
foreach(target pa-matchd pa-match pa-match-datagen pa-match-loadgen
               pa-match-pg-baseline search_bench relayout_bench write_bench)
  if(TARGET ${target})
    list(APPEND PA_MATCH_HELP_BINARIES "${target}=$<TARGET_FILE:${target}>")
  endif()
endforeach()
add_test(NAME HelpListsEachBinarysFlags
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/help_test.sh ${PROJECT_SOURCE_DIR}
          ${PA_MATCH_HELP_BINARIES})
set_tests_properties(HelpListsEachBinarysFlags PROPERTIES TIMEOUT 300)
