# The client's policies observed from outside (tests/c/test_policy.c): retry
# back-off and adaptive mode timed by the fault server, TLS name checking
# against a test CA, the default quotas' pace, retry settings from the
# environment and the profile. One CTest entry per behaviour, each with its
# own fault server. Included from tests/c/CMakeLists.txt after acmpca_test()
# and WITH_SERVER are defined. tests/mutation/mutants.txt names these entries
# as the ones that kill its planted bugs.
acmpca_test(test_policy)
target_link_libraries(test_policy PRIVATE PkgConfig::CURL m)
# The entries; each runs the case named by the part after the "/".
set(POLICY_TESTS
  retry/backoff-is-jittered-exponential
  retry/standard-mode-waits-between-attempts
  retry/adaptive-mode-delays-calls-after-throttling
  security/tls-certificate-for-another-name-refused
  security/insecure-skip-tls-verify-accepts-any-server
  rate-limit/default-quotas-pace-each-operation
  config/max-attempts-from-option-env-profile
  config/retry-mode-from-option-env-profile)
foreach(name ${POLICY_TESTS})
  string(REGEX REPLACE "^[^/]*/" "" case ${name})
  add_test(NAME ${name} COMMAND ${WITH_SERVER} fault -- $<TARGET_FILE:test_policy> ${case})
  set_tests_properties(${name} PROPERTIES TIMEOUT 60 ENVIRONMENT "${TEST_ENV}")
endforeach()

# The Lua binding passes the TLS options through (tests/lua/fault/tls_spec.lua,
# which the lua/lua54/fault group runs too): an entry of its own, so the mutation
# check can run just it against a planted bug in bindings/lua/acmpca.c.
find_program(BUSTED busted)
find_program(LUA54_EXE lua5.4)
# Not in sanitizer builds: lua5.4 itself is not instrumented.
if(TARGET acmpca_lua_lua54 AND BUSTED AND LUA54_EXE AND NOT ACMPCA_ASAN AND NOT ACMPCA_TSAN)
  add_test(NAME lua/tls-options-passed-through
           COMMAND ${WITH_SERVER} fault -- ${LUA54_EXE} ${BUSTED}
                   --cpath=$<TARGET_FILE_DIR:acmpca_lua_lua54>/?.so
                   --lpath=${PROJECT_SOURCE_DIR}/tests/lua/?.lua -o plainTerminal
                   ${PROJECT_SOURCE_DIR}/tests/lua/fault/tls_spec.lua)
  set_tests_properties(lua/tls-options-passed-through
                       PROPERTIES TIMEOUT 60 ENVIRONMENT "${TEST_ENV}")
endif()
