# The production credential providers (test_credentials_remote.c): one CTest
# entry per group. Included from tests/c/CMakeLists.txt after WITH_SERVER is
# defined. Servers: tests/fixtures/metadata_server.py (IMDS, container, SSO
# portal, a scriptable STS) on loopback, nested inside with_server.py's moto
# for the STS protocol itself. Nothing but 127.0.0.1 is contacted.
acmpca_test(test_credentials_remote)
target_compile_definitions(test_credentials_remote PRIVATE ACMPCA_FIXTURES="${FIXTURES}")
target_link_libraries(test_credentials_remote PRIVATE Threads::Threads)

set(METADATA_SERVER ${Python3_EXECUTABLE} ${FIXTURES}/metadata_server.py)
set(CREDS $<TARGET_FILE:test_credentials_remote>)
add_test(NAME credentials/unit COMMAND ${CREDS} --unit)
add_test(NAME credentials/process COMMAND ${CREDS} --process)
add_test(NAME credentials/imds-container-sso-sts COMMAND ${METADATA_SERVER} -- ${CREDS} --metadata)
add_test(NAME credentials/refresh COMMAND ${METADATA_SERVER} -- ${CREDS} --refresh)
add_test(NAME credentials/threads COMMAND ${METADATA_SERVER} -- ${CREDS} --threads)
add_test(NAME credentials/sts-moto
         COMMAND ${WITH_SERVER} moto -- ${METADATA_SERVER} -- ${CREDS} --moto)
set_tests_properties(credentials/unit credentials/process credentials/imds-container-sso-sts
                     credentials/refresh credentials/threads credentials/sts-moto
                     PROPERTIES ENVIRONMENT "${TEST_ENV}" TIMEOUT 120)

# Security behaviours, one entry each. The proxy test runs inside a recording
# proxy that answers everything with bogus credentials.
set(RECORDING_PROXY ${Python3_EXECUTABLE} ${FIXTURES}/recording_proxy.py)
add_test(NAME credentials/metadata-endpoints-bypass-proxies
         COMMAND ${METADATA_SERVER} -- ${RECORDING_PROXY} -- ${CREDS} --no-proxy)
add_test(NAME credentials/tokens-with-control-characters-refused
         COMMAND ${METADATA_SERVER} -- ${CREDS} --header-injection)
add_test(NAME credentials/control-characters-in-credentials-refused
         COMMAND test_credentials --control-characters)
add_test(NAME credentials/process-timeout-kills-process-group COMMAND ${CREDS} --process-group)
add_test(NAME credentials/secrets-wiped-from-heap COMMAND ${METADATA_SERVER} -- ${CREDS} --heap-scan)
add_test(NAME credentials/fork-while-refreshing COMMAND test_credentials --fork-while-refreshing)
set_tests_properties(credentials/metadata-endpoints-bypass-proxies
                     credentials/tokens-with-control-characters-refused
                     credentials/control-characters-in-credentials-refused
                     credentials/process-timeout-kills-process-group
                     credentials/secrets-wiped-from-heap
                     credentials/fork-while-refreshing
                     PROPERTIES ENVIRONMENT "${TEST_ENV}" TIMEOUT 60)
# Lazy binding saves the vector registers (which may hold pieces of what was
# just copied or wiped) on the stack; resolve every symbol at start instead.
set_tests_properties(credentials/secrets-wiped-from-heap
                     PROPERTIES ENVIRONMENT "${TEST_ENV};LD_BIND_NOW=1")
