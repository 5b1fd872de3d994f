# auto_switch.cmake — the AUTO / ON / OFF switches of optional parts found
# on the machine (LMASK_MPI, LMASK_PYTHON; included by CMakeLists.txt).
# AUTO, the default, follows what is found and looks again at every
# configure, so a build directory made before a package was installed picks
# it up without being deleted; ON insists on it.
#
# lmask_auto_switch(NAME USABLE HOW_TO_GET_IT): sets NAME_ON in the caller
# from the cache string NAME and whether the part is usable here; ON
# without it stops the configure with a line saying how to get it.
function(lmask_auto_switch name usable how_to_get_it)
  if(${name} STREQUAL "AUTO")
    set(switched_on ${usable})
  elseif(${name})
    set(switched_on ON)
  else()
    set(switched_on OFF)
  endif()
  if(switched_on AND NOT usable)
    message(FATAL_ERROR "${name}=ON but ${how_to_get_it} or pass -D${name}=OFF")
  endif()
  set(${name}_ON ${switched_on} PARENT_SCOPE)
endfunction()
