# SPDX-License-Identifier: Apache-2.0
# fg_add_check_test(NAME SOURCES ... LIBS ... LABELS ... [TIMEOUT s])
#   A Check unit-test executable, registered with ctest; 77 means skipped.
# fg_add_script_test(NAME SCRIPT file LABELS ... [TIMEOUT s])
#   A shell integration test run with the build tree in its environment.
function(fg_add_check_test name)
	cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
	if(NOT T_TIMEOUT)
		set(T_TIMEOUT 60)
	endif()
	add_executable(${name} ${T_SOURCES})
	target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CHECK fg_warnings)
	target_compile_definitions(${name} PRIVATE
		FG_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
		FG_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
		FG_BINARY_DIR="${PROJECT_BINARY_DIR}")
	set_target_properties(${name} PROPERTIES
		RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
	add_test(NAME ${name} COMMAND ${name})
	set_tests_properties(${name} PROPERTIES
		LABELS "${T_LABELS}" SKIP_RETURN_CODE 77 TIMEOUT ${T_TIMEOUT}
		ENVIRONMENT "CK_DEFAULT_TIMEOUT=${T_TIMEOUT}")
endfunction()

function(fg_add_script_test name)
	cmake_parse_arguments(T "" "TIMEOUT;SCRIPT" "LABELS;DEPENDS" ${ARGN})
	if(NOT T_TIMEOUT)
		set(T_TIMEOUT 120)
	endif()
	add_test(NAME ${name} COMMAND bash ${T_SCRIPT})
	set_tests_properties(${name} PROPERTIES
		LABELS "${T_LABELS}" SKIP_RETURN_CODE 77 TIMEOUT ${T_TIMEOUT}
		ENVIRONMENT "FG_SOURCE_DIR=${PROJECT_SOURCE_DIR};FG_BUILD_DIR=${PROJECT_BINARY_DIR};FAULTGATE=${PROJECT_BINARY_DIR}/bin/faultgate;FG_VICTIMS=${PROJECT_BINARY_DIR}/victims")
endfunction()
