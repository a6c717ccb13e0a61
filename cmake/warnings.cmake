# Warnings for our own targets (generated protobuf code is left alone).
function(cbq_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wno-unused-parameter)
  if(CBQ_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

add_compile_definitions(_POSIX_C_SOURCE=200809L _XOPEN_SOURCE=700 _DEFAULT_SOURCE)
if(CBQ_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
