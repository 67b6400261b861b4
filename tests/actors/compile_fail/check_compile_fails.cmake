# Compiles SOURCE with -DQUAY_CASE=0 (the control: must succeed), then with -DQUAY_CASE=-1,
# which instantiates every bad case, each in its own template instance: the compile must fail
# and its output must contain every text of EXPECTS (one per case, separated by |). Invoked by
# ctest: cmake -DCXX=... -DFLAGS_FILE=... -DSOURCE=... -DEXPECTS=a|b -P check_compile_fails.cmake
string(REPLACE "|" ";" EXPECTS "${EXPECTS}")
file(READ ${FLAGS_FILE} _flags)
string(STRIP "${_flags}" _flags)
separate_arguments(_flags UNIX_COMMAND "${_flags}")
set(_cmd ${CXX} -std=c++20 -fsyntax-only -fmax-errors=100 ${_flags})
execute_process(COMMAND ${_cmd} -DQUAY_CASE=0 ${SOURCE} RESULT_VARIABLE rc ERROR_VARIABLE err
                OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the control case does not compile (flags wrong?):\n${err}${out}")
endif()
execute_process(COMMAND ${_cmd} -DQUAY_CASE=-1 ${SOURCE} RESULT_VARIABLE rc
                ERROR_VARIABLE err OUTPUT_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "the bad handler shapes compiled; each must be rejected")
endif()
set(_failed 0)
set(_case 0)
foreach(want IN LISTS EXPECTS)
  math(EXPR _case "${_case} + 1")
  string(FIND "${err}${out}" "${want}" pos)
  if(pos EQUAL -1)
    message(SEND_ERROR "case ${_case} was not rejected with '${want}'")
    set(_failed 1)
  else()
    message(STATUS "case ${_case}: rejected with '${want}'")
  endif()
endforeach()
if(_failed)
  message(FATAL_ERROR "some handler shapes were not rejected with their message:\n${err}")
endif()
