# SPDX-License-Identifier: Apache-2.0
# The warning set every target links PRIVATE; errors when FG_WERROR is on.
add_library(fg_warnings INTERFACE)
target_compile_options(fg_warnings INTERFACE
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
	-Wimplicit-function-declaration -Wpointer-arith -Wformat=2
	-Wformat-security -Wformat-nonliteral -Wswitch-default -Wswitch-enum
	-Wundef -Wvla -Wno-unused-parameter)
target_compile_definitions(fg_warnings INTERFACE _GNU_SOURCE)
if(FG_WERROR)
	target_compile_options(fg_warnings INTERFACE -Werror)
endif()
if(FG_SANITIZE)
	string(REPLACE ";" "," _fg_san "${FG_SANITIZE}")
	target_compile_options(fg_warnings INTERFACE -fsanitize=${_fg_san} -fno-omit-frame-pointer)
	target_link_options(fg_warnings INTERFACE -fsanitize=${_fg_san})
endif()
