# Connections and options observed from outside (tests/c/test_connections.c):
# keep-alive counted by the fixture server, a connection closed by the server
# replaced without an error, a connect timeout typed and retried. Included
# from tests/c/CMakeLists.txt; tests/mutation/mutants.txt names these entries.
acmpca_test(test_connections)
target_link_libraries(test_connections PRIVATE PkgConfig::CURL)
foreach(name connections/sequential-calls-share-one-connection
             connections/server-close-leads-to-a-new-connection)
  if(name MATCHES "share")
    set(case reuse)
  else()
    set(case server-close)
  endif()
  add_test(NAME ${name} COMMAND ${WITH_SERVER} fixture -- $<TARGET_FILE:test_connections> ${case})
  set_tests_properties(${name} PROPERTIES TIMEOUT 60 ENVIRONMENT "${TEST_ENV}")
endforeach()
add_test(NAME connections/connect-timeout-is-typed-and-retried
         COMMAND $<TARGET_FILE:test_connections> connect-timeout)
set_tests_properties(connections/connect-timeout-is-typed-and-retried
                     PROPERTIES TIMEOUT 60 ENVIRONMENT "${TEST_ENV}")

# Options observed from outside (tests/c/test_options.c): the User-Agent the
# server receives, log_enabled, HTTPS_PROXY seen by a recording proxy.
acmpca_test(test_options)
target_link_libraries(test_options PRIVATE PkgConfig::CURL)
add_test(NAME options/user-agent-suffix-reaches-the-server
         COMMAND ${WITH_SERVER} fault -- $<TARGET_FILE:test_options> user-agent-suffix)
add_test(NAME options/log-enabled-gates-the-log
         COMMAND ${WITH_SERVER} fault -- $<TARGET_FILE:test_options> log-enabled)
add_test(NAME options/https-proxy-carries-the-call
         COMMAND ${WITH_SERVER} fault -- ${Python3_EXECUTABLE} ${FIXTURES}/recording_proxy.py --
                 $<TARGET_FILE:test_options> https-proxy)
add_test(NAME options/explicit-proxy-carries-the-call
         COMMAND ${WITH_SERVER} fault -- ${Python3_EXECUTABLE} ${FIXTURES}/recording_proxy.py
                 --forward -- $<TARGET_FILE:test_options> explicit-proxy)
add_test(NAME options/env-http-proxy-carries-the-call
         COMMAND ${WITH_SERVER} fault -- ${Python3_EXECUTABLE} ${FIXTURES}/recording_proxy.py
                 --forward -- $<TARGET_FILE:test_options> env-http-proxy)
set_tests_properties(options/user-agent-suffix-reaches-the-server options/log-enabled-gates-the-log
                     options/https-proxy-carries-the-call options/explicit-proxy-carries-the-call
                     options/env-http-proxy-carries-the-call
                     PROPERTIES TIMEOUT 60 ENVIRONMENT "${TEST_ENV}")

# The Lua binding's options, the same way (tests/lua/unit/options_spec.lua with
# no server, tests/lua/fault/options_spec.lua against the fault server; the
# lua/lua54/* and lua/luajit/* groups run them too): entries of their own, so the
# mutation check can run just them against a planted bug in bindings/lua/acmpca.c.
find_program(BUSTED busted)
find_program(LUA54_EXE lua5.4)
if(TARGET acmpca_lua_lua54 AND BUSTED AND LUA54_EXE AND NOT ACMPCA_ASAN AND NOT ACMPCA_TSAN)
  set(LUA_SPEC ${LUA54_EXE} ${BUSTED} --cpath=$<TARGET_FILE_DIR:acmpca_lua_lua54>/?.so
      --lpath=${PROJECT_SOURCE_DIR}/tests/lua/?.lua -o plainTerminal)
  add_test(NAME lua/options-choose-endpoint-proxy-and-pace
           COMMAND ${LUA_SPEC} ${PROJECT_SOURCE_DIR}/tests/lua/unit/options_spec.lua)
  add_test(NAME lua/user-agent-suffix-reaches-the-server
           COMMAND ${WITH_SERVER} fault -- ${LUA_SPEC}
                   ${PROJECT_SOURCE_DIR}/tests/lua/fault/options_spec.lua)
  set_tests_properties(lua/options-choose-endpoint-proxy-and-pace
                       lua/user-agent-suffix-reaches-the-server PROPERTIES TIMEOUT 60
    ENVIRONMENT "${TEST_ENV};ACMPCA_SOURCE_DIR=${PROJECT_SOURCE_DIR};ACMPCA_LUA_EXE=${LUA54_EXE};NO_PROXY=127.0.0.1,localhost,::1;no_proxy=127.0.0.1,localhost,::1")
endif()
# The transport's own HTTP/1.1 framing (tests/c/test_wire.c): its own
# scripted server on a loopback socket, no fixture.
acmpca_test(test_wire)
target_link_libraries(test_wire PRIVATE PkgConfig::CURL Threads::Threads)
foreach(case chunked until-close interim stale-retried no-retry-after-bytes header-limit
             head-line-limit size-limit request-bytes request-wiped)
  add_test(NAME wire/${case} COMMAND $<TARGET_FILE:test_wire> ${case})
  set_tests_properties(wire/${case} PROPERTIES TIMEOUT 60 ENVIRONMENT "${TEST_ENV}")
endforeach()
