# The fault matrix (issue 5): tests/c/test_faults.c against
# tests/fixtures/fault_server.py, one CTest entry per row (faults/<row>), each
# with its own server started by with_server.py. Included from
# tests/c/CMakeLists.txt after acmpca_test() and WITH_SERVER are defined.
# The rows, in test_faults.c's order (faults/rows-registered checks it).
set(FAULT_ROWS
  http-500 503-then-200 throttling-then-200 limit-exceeded connection-refused
  reset-before-any-byte reset-mid-body stall slow-trickle slow-trickle-head
  truncated-json html-502 invalid-json body-over-cap wrong-content-length header-over-limit
  error-type-header-only skewed-date tls-self-signed never-issue-twice retry-quota
  total-timeout-slow-answer total-timeout-slow-handshake total-timeout-stops-retries)

acmpca_test(test_faults)
target_sources(test_faults PRIVATE socket_driver.c)
target_link_libraries(test_faults PRIVATE PkgConfig::CURL Threads::Threads)
foreach(row ${FAULT_ROWS})
  add_test(NAME faults/${row}
           COMMAND ${WITH_SERVER} fault -- $<TARGET_FILE:test_faults> ${row})
  set_tests_properties(faults/${row} PROPERTIES TIMEOUT 60 ENVIRONMENT "${TEST_ENV}")
endforeach()

# The same rows through a second driver of the call machine: plain sockets, no
# libcurl (socket_driver.c). Same outcomes and attempt counts prove the machine
# decides everything. It speaks plain HTTP only, so the TLS rows are libcurl's.
set(FAULT_ROWS_TLS tls-self-signed total-timeout-slow-handshake)
foreach(row ${FAULT_ROWS})
  if(NOT row IN_LIST FAULT_ROWS_TLS)
    add_test(NAME faults-socket-driver/${row}
             COMMAND ${WITH_SERVER} fault -- $<TARGET_FILE:test_faults> --socket-driver ${row})
    set_tests_properties(faults-socket-driver/${row}
                         PROPERTIES TIMEOUT 60 ENVIRONMENT "${TEST_ENV}")
  endif()
endforeach()
# A row of the libcurl transport alone (test_faults.c's transport_rows).
add_test(NAME transport/response-header-names
         COMMAND ${WITH_SERVER} fault -- $<TARGET_FILE:test_faults> response-header-names)
set_tests_properties(transport/response-header-names PROPERTIES TIMEOUT 60 ENVIRONMENT "${TEST_ENV}")
add_test(NAME faults/rows-registered COMMAND test_faults --check-rows ${FAULT_ROWS})
