# LIBMEMFD_CHECK_MEMFD_CREATE
# ---------------------------
# Decide how the library calls memfd_create: through the C library's wrapper
# (glibc >= 2.27) or through syscall(SYS_memfd_create, ...) where the C
# library is older than the kernel. --with-memfd-create=libc|syscall forces
# one way; auto prefers the wrapper.
#
# Defines MEMFD_CREATE_USE_LIBC (1 or 0) in config.h, and sets
# libmemfd_memfd_create_desc for configure's summary.
AC_DEFUN([LIBMEMFD_CHECK_MEMFD_CREATE], [
AC_REQUIRE([AC_USE_SYSTEM_EXTENSIONS])
AC_ARG_WITH([memfd-create],
  [AS_HELP_STRING([--with-memfd-create=auto|libc|syscall],
    [call memfd_create through the C library wrapper or the raw system call @<:@default=auto@:>@])],
  [], [with_memfd_create=auto])
AS_CASE([$with_memfd_create],
  [auto|libc|syscall], [],
  [AC_MSG_ERROR([--with-memfd-create takes auto, libc or syscall, not '$with_memfd_create'])])

AC_CACHE_CHECK([for the memfd_create() wrapper in the C library],
  [libmemfd_cv_func_memfd_create],
  [AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <sys/mman.h>]],
                                   [[return memfd_create("probe", 0);]])],
    [libmemfd_cv_func_memfd_create=yes],
    [libmemfd_cv_func_memfd_create=no])])

AC_CACHE_CHECK([for SYS_memfd_create],
  [libmemfd_cv_sys_memfd_create],
  [AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[#include <sys/syscall.h>
#include <unistd.h>]],
                                      [[return (int)syscall(SYS_memfd_create, "probe", 0);]])],
    [libmemfd_cv_sys_memfd_create=yes],
    [libmemfd_cv_sys_memfd_create=no])])

AS_CASE([$with_memfd_create],
  [auto], [AS_IF([test "x$libmemfd_cv_func_memfd_create" = xyes],
                 [libmemfd_memfd_create=libc],
                 [test "x$libmemfd_cv_sys_memfd_create" = xyes],
                 [libmemfd_memfd_create=syscall],
                 [AC_MSG_ERROR([neither memfd_create() nor SYS_memfd_create is available: libmemfd needs Linux >= 3.17 headers])])],
  [libc], [AS_IF([test "x$libmemfd_cv_func_memfd_create" = xyes],
                 [libmemfd_memfd_create=libc],
                 [AC_MSG_ERROR([--with-memfd-create=libc, but the C library has no memfd_create()])])],
  [syscall], [AS_IF([test "x$libmemfd_cv_sys_memfd_create" = xyes],
                    [libmemfd_memfd_create=syscall],
                    [AC_MSG_ERROR([--with-memfd-create=syscall, but <sys/syscall.h> has no SYS_memfd_create])])])

AS_IF([test "x$libmemfd_memfd_create" = xlibc],
      [AC_DEFINE([MEMFD_CREATE_USE_LIBC], [1], [Call the C library's memfd_create() wrapper])
       libmemfd_memfd_create_desc="C library wrapper (--with-memfd-create=$with_memfd_create)"],
      [AC_DEFINE([MEMFD_CREATE_USE_LIBC], [0], [Call memfd_create through syscall(SYS_memfd_create)])
       libmemfd_memfd_create_desc="raw SYS_memfd_create (--with-memfd-create=$with_memfd_create)"])
AC_SUBST([MEMFD_CREATE_VIA], [$libmemfd_memfd_create])
])
